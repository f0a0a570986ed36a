import EventLog
import Synchronization

/// Moves a running group from outside: a reset reaches the shard's task at its next step, and
/// wakes it if it is waiting for records.
public final class ConsumerControl: Sendable {
    private struct State {
        var pending: [ShardID: SequenceNumber] = [:]
        var waiters: [ShardID: [UInt64: CheckedContinuation<Void, Never>]] = [:]
        var nextWaiterID: UInt64 = 0
    }

    private let state = Mutex(State())

    public init() {}

    /// Asks the shard's task to continue after `seq`, dropping the batch it has in hand.
    public func requestReset(_ shard: ShardID, to seq: SequenceNumber) {
        let waiters = state.withLock { state in
            state.pending[shard] = seq
            return state.waiters.removeValue(forKey: shard) ?? [:]
        }
        for waiter in waiters.values { waiter.resume() }
    }

    func takeReset(_ shard: ShardID) -> SequenceNumber? {
        state.withLock { $0.pending.removeValue(forKey: shard) }
    }

    /// Returns when a reset for the shard is requested, or the task is cancelled.
    func waitForReset(_ shard: ShardID) async {
        let id = state.withLock { state in
            state.nextWaiterID += 1
            return state.nextWaiterID
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let ready = state.withLock { state in
                    if state.pending[shard] != nil || Task.isCancelled { return true }
                    state.waiters[shard, default: [:]][id] = continuation
                    return false
                }
                if ready { continuation.resume() }
            }
        } onCancel: {
            state.withLock { $0.waiters[shard]?.removeValue(forKey: id) }?.resume()
        }
    }
}

/// Where a reset moves a checkpoint.
public enum ResetTarget: Sendable, Equatable {
    case sequenceNumber(SequenceNumber)
    case time(Timestamp)
    case trimHorizon
    case latest

    /// The checkpoint this target means on a shard (processing resumes after it).
    public func checkpoint(on shard: ShardKey, in storage: any LogStorage) async throws -> SequenceNumber {
        let info = try await storage.shardInfo(shard)
        switch self {
        case .sequenceNumber(let seq):
            guard seq <= info.head else {
                throw EventLogError.invalidArgument(
                    "sequence number \(seq) is past the head \(info.head) of \(shard)")
            }
            return seq
        case .time(let time): return try await storage.firstSequenceNumber(shard, atOrAfter: time) - 1
        case .trimHorizon: return info.firstSeq - 1
        case .latest: return info.head
        }
    }
}
