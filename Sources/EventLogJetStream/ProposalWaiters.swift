import EventLog
import Synchronization

/// This node's appends waiting for the fold to decide their proposals: the follower hands
/// each folded proposal's outcome to the append that proposed it, by the record id it chose,
/// and says how far it has folded each shard's stream.
final class ProposalWaiters: Sendable {
    /// Per shard, the stream position the replica has folded through.
    private let folded: CommitNotifier

    init(folded: [ShardKey: UInt64]) {
        self.folded = CommitNotifier(heads: folded)
    }

    /// The replica has folded `shard`'s stream through `source`.
    func fold(_ shard: ShardKey, through source: UInt64) {
        folded.publish([shard: source])
    }

    /// Returns once the replica has folded `shard`'s stream through `source`.
    func waitUntilFolded(_ shard: ShardKey, through source: UInt64) async throws {
        try await folded.wait(shard, after: source - 1)
    }

    private enum Slot {
        case waiting(CheckedContinuation<AppendResult, any Error>?)
        case decided(Result<AppendResult, any Error>)
    }

    private let slots = Mutex<[RecordID: Slot]>([:])

    /// Expects the outcome of proposal `id`: call before publishing it, so no outcome is missed.
    func expect(_ id: RecordID) {
        slots.withLock { $0[id] = .waiting(nil) }
    }

    /// Forgets proposal `id` (its publish failed, or JetStream dropped it as a duplicate).
    func forget(_ id: RecordID) {
        let continuation: CheckedContinuation<AppendResult, any Error>? = slots.withLock {
            guard case .waiting(let continuation) = $0.removeValue(forKey: id) else { return nil }
            return continuation
        }
        continuation?.resume(throwing: CancellationError())
    }

    /// Hands over a folded proposal's outcome; ignored for proposals no append here expects.
    func decide(_ id: RecordID, _ outcome: Result<AppendResult, any Error>) {
        let continuation: CheckedContinuation<AppendResult, any Error>? = slots.withLock { slots in
            guard case .waiting(let continuation) = slots[id] else { return nil }
            if let continuation {
                slots[id] = nil
                return continuation
            }
            slots[id] = .decided(outcome)
            return nil
        }
        continuation?.resume(with: outcome)
    }

    /// The outcome of proposal `id`, once folded. Cancelling the task gives up the wait.
    func outcome(_ id: RecordID) async throws -> AppendResult {
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                let decided: Result<AppendResult, any Error>? = slots.withLock { slots in
                    switch slots[id] {
                    case .decided(let outcome):
                        slots[id] = nil
                        return outcome
                    case .waiting:
                        if Task.isCancelled {
                            slots[id] = nil
                            return .failure(CancellationError())
                        }
                        slots[id] = .waiting(continuation)
                        return nil
                    case nil:
                        return .failure(CancellationError())
                    }
                }
                if let decided { continuation.resume(with: decided) }
            }
        } onCancel: {
            forget(id)
        }
    }
}
