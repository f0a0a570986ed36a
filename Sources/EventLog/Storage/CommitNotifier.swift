import Synchronization

/// Wakes readers waiting for records past a position, as soon as a commit lands.
///
/// The notifier remembers the head it last published for every shard, so a reader that
/// registers after a commit sees the new head at once and no wake-up is ever lost.
package final class CommitNotifier: Sendable {
    private struct Waiter {
        var after: SequenceNumber
        var continuation: CheckedContinuation<Void, any Error>
    }

    private struct State {
        var heads: [ShardKey: SequenceNumber] = [:]
        var waiters: [ShardKey: [UInt64: Waiter]] = [:]
        var nextWaiterID: UInt64 = 0
    }

    private let state = Mutex(State())

    package init(heads: [ShardKey: SequenceNumber]) {
        state.withLock { $0.heads = heads }
    }

    /// Records new heads and resumes every reader they satisfy.
    package func publish(_ heads: [ShardKey: SequenceNumber]) {
        let ready: [CheckedContinuation<Void, any Error>] = state.withLock { state in
            var ready: [CheckedContinuation<Void, any Error>] = []
            for (shard, head) in heads {
                state.heads[shard] = head
                guard var waiting = state.waiters[shard] else { continue }
                for (id, waiter) in waiting where waiter.after < head {
                    ready.append(waiter.continuation)
                    waiting[id] = nil
                }
                state.waiters[shard] = waiting.isEmpty ? nil : waiting
            }
            return ready
        }
        for continuation in ready { continuation.resume() }
    }

    /// The last head published for a shard.
    package func head(_ shard: ShardKey) -> SequenceNumber {
        state.withLock { $0.heads[shard] ?? 0 }
    }

    /// Returns once the shard's head passes `after`.
    package func wait(_ shard: ShardKey, after: SequenceNumber) async throws {
        let id = state.withLock { state in
            state.nextWaiterID += 1
            return state.nextWaiterID
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation {
                (continuation: CheckedContinuation<Void, any Error>) in
                let outcome: Result<Void, any Error>? = state.withLock { state in
                    if Task.isCancelled { return .failure(CancellationError()) }
                    if (state.heads[shard] ?? 0) > after { return .success(()) }
                    state.waiters[shard, default: [:]][id] = Waiter(after: after, continuation: continuation)
                    return nil
                }
                if let outcome { continuation.resume(with: outcome) }
            }
        } onCancel: {
            let waiter = state.withLock { state in state.waiters[shard]?.removeValue(forKey: id) }
            waiter?.continuation.resume(throwing: CancellationError())
        }
    }

    /// How many readers are waiting.
    package var waiterCount: Int {
        state.withLock { $0.waiters.values.reduce(0) { $0 + $1.count } }
    }

    /// Fails every waiter; used when the log closes.
    package func cancelAll() {
        let all = state.withLock { state in
            defer { state.waiters = [:] }
            return state.waiters.values.flatMap { $0.values.map(\.continuation) }
        }
        for continuation in all { continuation.resume(throwing: EventLogError.closed) }
    }
}
