import Dispatch
import EventLog
import Synchronization

/// Work for the writer thread: appends, or other writes (checkpoints, trims) that must share
/// the single LMDB writer.
enum WriteJob: Sendable {
    /// One append: the common case, kept free of array allocations.
    case appendOne(AppendRequest, UnsafeContinuation<AppendResult, any Error>)
    /// Several appends that commit together or not at all.
    case append([AppendRequest], UnsafeContinuation<[AppendResult], any Error>)
    case operation(WriteOperation)

    var size: Int {
        switch self {
        case .appendOne: 1
        case .append(let requests, _): requests.count
        case .operation: 1
        }
    }

    func fail(_ error: any Error) {
        switch self {
        case .appendOne(_, let continuation): continuation.resume(throwing: error)
        case .append(_, let continuation): continuation.resume(throwing: error)
        case .operation(let operation): operation.fail(error)
        }
    }
}

/// A write run inside a group commit, in a nested transaction of its own so that its failure
/// undoes only its writes. `run` returns what to do once the commit is durable.
struct WriteOperation: Sendable {
    let run: @Sendable (inout WriteContext) throws -> @Sendable () -> Void
    let fail: @Sendable (any Error) -> Void
}

/// The hand-off between appending tasks and the writer thread.
final class WriteQueue: Sendable {
    private struct State {
        var jobs: [WriteJob] = []
        var writerWaiting = false
        var closed = false
    }

    private let state = Mutex(State())
    private let wakeUp = DispatchSemaphore(value: 0)

    /// Queues a job; false once the queue is closed.
    func submit(_ job: WriteJob) -> Bool {
        let (accepted, wake) = state.withLock { state -> (Bool, Bool) in
            guard !state.closed else { return (false, false) }
            state.jobs.append(job)
            defer { state.writerWaiting = false }
            return (true, state.writerWaiting)
        }
        if wake { wakeUp.signal() }
        return accepted
    }

    /// Blocks until jobs are queued and takes them, up to about `maxSize` appends. With
    /// `gather` (which needs a `timeout`), it waits until that many jobs are queued. Returns what is
    /// queued, perhaps nothing, once `timeout` passes, and nil once closed and drained.
    func next(maxSize: Int, timeout: Duration?, gather: Int = 1) -> [WriteJob]? {
        assert(gather <= 1 || timeout != nil, "gathering without a timeout could wait for ever")
        let deadline = timeout.map { DispatchTime.now() + .nanoseconds(Int($0.nanoseconds)) }
        var timedOut = false
        while true {
            let batch: [WriteJob]?? = state.withLock { state in
                let enough = state.jobs.count >= gather
                if enough || (!state.jobs.isEmpty && (timedOut || state.closed)) {
                    var size = 0
                    var count = 0
                    while count < state.jobs.count, size < maxSize {
                        size += state.jobs[count].size
                        count += 1
                    }
                    let batch = Array(state.jobs[..<count])
                    state.jobs.removeFirst(count)
                    state.writerWaiting = false
                    return .some(batch)
                }
                if state.closed { return .some(nil) }
                if timedOut {
                    state.writerWaiting = false
                    return .some([])
                }
                state.writerWaiting = true
                return nil
            }
            if let batch { return batch }
            if let deadline {
                timedOut = wakeUp.wait(timeout: deadline) == .timedOut
            } else {
                wakeUp.wait()
            }
        }
    }

    /// Whether jobs wait for the next group.
    var hasJobs: Bool { state.withLock { !$0.jobs.isEmpty } }

    /// How many jobs wait for the next group.
    var count: Int { state.withLock { $0.jobs.count } }

    /// Refuses new jobs; the writer drains what is queued and stops.
    func close() {
        let wake = state.withLock { state in
            state.closed = true
            defer { state.writerWaiting = false }
            return state.writerWaiting
        }
        if wake { wakeUp.signal() }
    }
}
