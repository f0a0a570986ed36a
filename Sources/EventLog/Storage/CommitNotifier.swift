import Dispatch
import Synchronization

/// Wakes readers waiting for records past a position, as soon as a commit lands.
///
/// The notifier remembers the head it last published for every shard, so a reader that
/// registers after a commit sees the new head at once and no wake-up is ever lost. A wait may
/// also end by a `WaitInterrupt` or a time limit, without a task of its own for either: the
/// waiter is resumed straight from whichever comes first.
package final class CommitNotifier: Sendable {
    private struct Waiter {
        var after: SequenceNumber
        var continuation: CheckedContinuation<Bool, any Error>
        var interrupt: WaitInterrupt?
        var timer: Timer?

        func finish(_ outcome: Result<Bool, any Error>) {
            timer?.item.cancel()
            interrupt?.disarm()
            continuation.resume(with: outcome)
        }
    }

    private struct State {
        var heads: [ShardKey: SequenceNumber] = [:]
        var waiters: [ShardKey: [UInt64: Waiter]] = [:]
        var nextWaiterID: UInt64 = 0
    }

    private let state = Mutex(State())

    /// A wait's time limit. Dispatch work items may be cancelled from any thread.
    private struct Timer: @unchecked Sendable {
        let item: DispatchWorkItem
    }

    package init(heads: [ShardKey: SequenceNumber]) {
        state.withLock { $0.heads = heads }
    }

    /// Records new heads and resumes every reader they satisfy.
    package func publish(_ heads: [ShardKey: SequenceNumber]) {
        let ready: [Waiter] = state.withLock { state in
            var ready: [Waiter] = []
            for (shard, head) in heads {
                state.heads[shard] = head
                guard var waiting = state.waiters[shard] else { continue }
                for (id, waiter) in waiting where waiter.after < head {
                    ready.append(waiter)
                    waiting[id] = nil
                }
                state.waiters[shard] = waiting.isEmpty ? nil : waiting
            }
            return ready
        }
        for waiter in ready { waiter.finish(.success(true)) }
    }

    /// The last head published for a shard.
    package func head(_ shard: ShardKey) -> SequenceNumber {
        state.withLock { $0.heads[shard] ?? 0 }
    }

    /// Returns true once the shard's head passes `after` (at once if it has) or `interrupt`
    /// fires; false when `limit` passes first. Throws `CancellationError` when the task is
    /// cancelled.
    @discardableResult
    package func wait(
        _ shard: ShardKey, after: SequenceNumber, interrupt: WaitInterrupt? = nil, limit: Duration? = nil
    ) async throws -> Bool {
        let id = state.withLock { state in
            state.nextWaiterID += 1
            return state.nextWaiterID
        }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation {
                (continuation: CheckedContinuation<Bool, any Error>) in
                let timer = limit.map { _ in
                    Timer(item: DispatchWorkItem { self.end(shard, id, with: .success(false)) })
                }
                // Armed under the lock, so that nothing ends the wait before it is armed.
                let outcome: Result<Bool, any Error>? = state.withLock { state in
                    if Task.isCancelled { return .failure(CancellationError()) }
                    if (state.heads[shard] ?? 0) > after { return .success(true) }
                    if let limit, limit <= .zero { return .success(false) }
                    if let interrupt, !interrupt.arm({ self.end(shard, id, with: .success(true)) }) {
                        return .success(true)
                    }
                    state.waiters[shard, default: [:]][id] = Waiter(
                        after: after, continuation: continuation, interrupt: interrupt, timer: timer)
                    return nil
                }
                if let outcome { return continuation.resume(with: outcome) }
                if let limit, let timer {
                    let (seconds, attoseconds) = limit.components
                    let nanoseconds =
                        Int(min(seconds, 1 << 31)) * 1_000_000_000 + Int(attoseconds / 1_000_000_000)
                    DispatchQueue.global().asyncAfter(
                        deadline: .now() + .nanoseconds(nanoseconds), execute: timer.item)
                }
            }
        } onCancel: {
            end(shard, id, with: .failure(CancellationError()))
        }
    }

    /// Takes a waiter out and resumes it; does nothing when it has already ended.
    private func end(_ shard: ShardKey, _ id: UInt64, with outcome: Result<Bool, any Error>) {
        let waiter = state.withLock { state -> Waiter? in
            guard let waiter = state.waiters[shard]?.removeValue(forKey: id) else { return nil }
            if state.waiters[shard]?.isEmpty == true { state.waiters[shard] = nil }
            return waiter
        }
        waiter?.finish(outcome)
    }

    /// How many readers are waiting.
    package var waiterCount: Int {
        state.withLock { $0.waiters.values.reduce(0) { $0 + $1.count } }
    }

    /// Fails every waiter; used when the log closes.
    package func cancelAll() {
        let all = state.withLock { state in
            defer { state.waiters = [:] }
            return state.waiters.values.flatMap(\.values)
        }
        for waiter in all { waiter.finish(.failure(EventLogError.closed)) }
    }
}
