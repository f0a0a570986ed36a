import Dispatch
import EventLog
import Foundation
import LMDB
import Logging

/// The single writer of a log: a dedicated thread that takes every queued write, applies it in
/// one LMDB transaction, commits, and acknowledges once the commit is durable.
///
/// With strict durability a commit syncs its pages, then writes its meta page unsynced
/// (MDB_NOMETASYNC). The next commit's page sync carries that meta page to disk, so under load
/// each commit costs one sync, not two; when no commit follows, the writer syncs at once.
/// Writers hear back, and readers learn of the records, only after that later sync.
///
/// It runs on its own thread because LMDB's writer lock belongs to the thread that takes it
/// and a commit blocks on disk: neither may tie up Swift's cooperative pool.
final class LogWriter: Sendable {
    private let queue = WriteQueue()
    private let environment: Environment
    private let tables: StorageTables
    private let streams: [StreamName: StreamDescriptor]
    private let projections: [any Projection]
    private let configuration: LogConfiguration
    private let notifier: CommitNotifier
    private let clock: any LogClock
    private let logger: Logger
    private let stopped = DispatchSemaphore(value: 0)
    /// Resumes the committed writers, in commit order, while the writer thread goes on to the
    /// next group: resuming a large group is a measurable share of the writer's time.
    private let acknowledger = DispatchQueue(label: "chatlog-acknowledger")
    let counters = WriterCounters()
    /// Each commit, sync and acknowledgement as the writer thread does it, in order: lets a
    /// test check that no writer hears back before the sync that makes its commit durable.
    let events = ObserverSlot<WriterEvent>()

    init(
        environment: Environment, tables: StorageTables, streams: [StreamDescriptor],
        projections: [any Projection], configuration: LogConfiguration, notifier: CommitNotifier,
        clock: any LogClock, logger: Logger, metas: [ShardKey: ShardMeta]
    ) {
        self.projections = projections
        self.environment = environment
        self.tables = tables
        self.streams = Dictionary(uniqueKeysWithValues: streams.map { ($0.name, $0) })
        self.configuration = configuration
        self.notifier = notifier
        self.clock = clock
        self.logger = logger
        let thread = Thread { [self] in
            self.run(metas: metas)
        }
        thread.name = "chatlog-writer"
        thread.start()
    }

    /// Queues one append and returns once it is committed.
    func append(_ request: AppendRequest) async throws -> AppendResult {
        try await withUnsafeThrowingContinuation { continuation in
            if !queue.submit(.appendOne(request, continuation)) {
                continuation.resume(throwing: EventLogError.closed)
            }
        }
    }

    /// Queues appends that commit together and returns once they are committed.
    func append(_ requests: [AppendRequest]) async throws -> [AppendResult] {
        try await withUnsafeThrowingContinuation { continuation in
            if !queue.submit(.append(requests, continuation)) {
                continuation.resume(throwing: EventLogError.closed)
            }
        }
    }

    /// Runs `body` inside a group commit and returns its result once committed.
    func perform<R: Sendable>(_ body: @escaping @Sendable (inout WriteContext) throws -> R) async throws -> R
    {
        try await withCheckedThrowingContinuation { continuation in
            let operation = WriteOperation(
                run: { context in
                    let result = try body(&context)
                    return { continuation.resume(returning: result) }
                },
                fail: { continuation.resume(throwing: $0) })
            if !queue.submit(.operation(operation)) {
                continuation.resume(throwing: EventLogError.closed)
            }
        }
    }

    /// Stops taking writes, finishes the queued ones and waits for the thread to end.
    func stop() {
        queue.close()
        stopped.wait()
        acknowledger.sync {}
    }

    private var syncInterval: Duration? {
        if case .relaxed(let interval) = configuration.durability { return interval }
        return nil
    }

    private func run(metas initial: [ShardKey: ShardMeta]) {
        var metas = initial
        var random = IDRandomSource()
        // Relaxed durability: commits are not synced one by one, but every `syncInterval`,
        // busy or idle, and when the writer stops.
        var lastSync = ContinuousClock.now
        // Strict durability: the last commit, until a sync covers its meta page; and after a
        // release, how many writers are expected back and how long to wait for them.
        var unsynced: CommittedGroup?
        var expected = 1
        var linger: Duration?
        while let jobs = queue.next(
            maxSize: configuration.maxBatchSize, timeout: linger ?? syncInterval, gather: expected)
        {
            (expected, linger) = (1, nil)
            // (With a commit unsynced the queue held jobs, and only this thread takes them: the
            // wait above returned at once, with jobs.)
            let committed = jobs.isEmpty ? nil : commit(jobs, metas: &metas, random: &random)
            if let committed, syncInterval != nil {
                release(committed)
            } else if let committed {
                // This commit synced its pages before writing its meta page, and that sync
                // also carried the previous commit's meta page to disk.
                let previous = unsynced
                if let previous { release(previous) }
                if queue.count >= committed.jobs.count {
                    // As many writers wait as this commit held: the next commit covers it.
                    unsynced = committed
                } else {
                    // Fewer: sync it now, and let the writers just answered come back to one
                    // commit together, waiting for them up to what a sync costs. Writers that
                    // append in a loop then all share each commit (two syncs for all of them
                    // beats one sync for each half).
                    let took = syncAndRelease(committed)
                    unsynced = nil
                    (expected, linger) = (committed.jobs.count + (previous?.jobs.count ?? 0), took)
                }
            } else if let last = unsynced {
                syncAndRelease(last)
                unsynced = nil
            }
            if let syncInterval, counters.hasUnsyncedCommits, ContinuousClock.now - lastSync >= syncInterval {
                syncRelaxedCommits()
                lastSync = .now
            }
        }
        if let unsynced { syncAndRelease(unsynced) }
        if counters.hasUnsyncedCommits { syncRelaxedCommits() }
        stopped.signal()
    }

    private func syncRelaxedCommits() {
        let commits = counters.snapshot.commits
        do {
            try environment.sync()
            counters.recordStandaloneSync()
            counters.recordSync(through: commits)
        } catch {
            logger.error("periodic sync failed", metadata: ["error": "\(error)"])
        }
    }

    /// Syncs the last commit's meta page, then acknowledges it. If the sync fails, the commit is
    /// in the file but perhaps not on the disk: its writers hear that it is unconfirmed, and
    /// readers are not told of its records (a later durable commit shows them). Returns how
    /// long the sync took.
    @discardableResult
    private func syncAndRelease(_ group: CommittedGroup) -> Duration {
        let started = ContinuousClock.now
        do {
            try environment.sync()
            counters.recordStandaloneSync()
            events(.synced(throughCommit: group.number))
        } catch {
            logger.error("sync failed", metadata: ["error": "\(error)"])
            let failure = EventLogError.unconfirmed("the commit was written but syncing it failed: \(error)")
            for job in group.jobs { job.fail(failure) }
            return .zero
        }
        let took = ContinuousClock.now - started
        release(group)
        return min(took, .milliseconds(1))
    }

    /// A durable group: readers hear of its records, then its writers of their results. The
    /// acknowledgements run here when nothing else waits (a thread hand-off costs more than it
    /// saves), else on the acknowledger while the next group is written.
    private func release(_ group: CommittedGroup) {
        if syncInterval == nil { counters.recordSync(through: group.number) }
        notifier.publish(group.heads)
        events(.acknowledged(commit: group.number))
        if queue.hasJobs {
            let acknowledgements = Acknowledgements(completions: group.completions)
            acknowledger.async {
                for completion in acknowledgements.completions { completion() }
            }
        } else {
            acknowledger.sync {}
            for completion in group.completions { completion() }
        }
    }

    /// Writes and commits a group; nil when every job of it failed.
    private func commit(_ jobs: [WriteJob], metas: inout [ShardKey: ShardMeta], random: inout IDRandomSource)
        -> CommittedGroup?
    {
        let now = clock.now()
        var jobs = jobs
        while true {
            do {
                let started = ContinuousClock.now
                let (touched, completions) = try environment.write { transaction in
                    var context = WriteContext(
                        transaction: transaction, tables: tables, streams: streams, projections: projections,
                        now: now, committed: metas)
                    let completions = try jobs.enumerated().map { index, job in
                        do {
                            return try apply(job, in: &context, random: &random)
                        } catch let failure as AppendRefusal {
                            throw AbortJob(index: index, error: failure.error)
                        }
                    }
                    try context.saveTouchedMetas()
                    return (context.touched, completions)
                }
                let appended = touched.reduce(UInt64(0)) { $0 + $1.value.head - (metas[$1.key]?.head ?? 0) }
                let number = counters.recordCommit(
                    records: appended, duration: ContinuousClock.now - started, relaxed: syncInterval != nil)
                events(.committed(number))
                metas.merge(touched) { $1 }
                return CommittedGroup(
                    number: number, jobs: jobs, completions: completions, heads: touched.mapValues(\.head))
            } catch let error as LMDBError
                where error.isMapFull && environment.mapSize < configuration.maxMapSize
            {
                growMap()
            } catch let abort as AbortJob {
                // Part of the job was written before it failed: retry the others without it.
                jobs[abort.index].fail(abort.error)
                jobs.remove(at: abort.index)
                if jobs.isEmpty { return nil }
            } catch {
                let failure = Self.storageError(error, path: environment.path)
                if case .storageFull = failure {
                    logger.warning("write refused: \(failure)")
                } else {
                    logger.error("commit failed", metadata: ["error": "\(error)"])
                }
                for job in jobs { job.fail(failure) }
                return nil
            }
        }
    }

    private func growMap() {
        let current = environment.mapSize
        let target = min(configuration.maxMapSize, max(current * 2, current + (64 << 20)))
        do {
            try environment.setMapSize(target)
            logger.info("map grown", metadata: ["from": "\(current)", "to": "\(target)"])
        } catch {
            logger.error("map growth failed", metadata: ["error": "\(error)"])
        }
    }

    /// Maps a failed commit to the error its writers see. The transaction was aborted whole,
    /// so nothing of it is on disk and the next commit may succeed.
    static func storageError(_ error: any Error, path: String) -> EventLogError {
        switch error {
        case let error as EventLogError: return error
        case let error as LMDBError where error.isMapFull:
            return .storageFull("the log reached its maximum map size")
        case let error as LMDBError where error.isNoSpace:
            return .storageFull("no space left on the device")
        // LMDB reports a short write as EIO; on a device with no room left that is what a full
        // disk looks like (a tmpfs, say, takes part of a write and then refuses the rest).
        case let error as LMDBError
        where error.code == EIO && freeBytes(at: path).map({ $0 < 16 << 20 }) ?? false:
            return .storageFull("no space left on the device")
        default: return .storage("\(error)")
        }
    }

    /// The bytes an unprivileged writer may still use on the device holding `path`.
    private static func freeBytes(at path: String) -> UInt64? {
        var status = statvfs()
        guard statvfs(path, &status) == 0 else { return nil }
        return UInt64(status.f_bavail) * UInt64(status.f_frsize)
    }

    /// Applies one job; returns how to acknowledge it after the commit.
    private func apply(
        _ job: WriteJob, in context: inout WriteContext, random: inout IDRandomSource
    ) throws -> () -> Void {
        switch job {
        case .appendOne(let request, let continuation):
            do {
                try validate(request)
            } catch {
                return { continuation.resume(throwing: error) }
            }
            var appender = RecordAppender(context: context, random: random)
            let result: AppendResult
            do {
                result = try appender.append(request)
            } catch let failure as AppendRefusal {
                // Refusals come before any write, so nothing of this job is in the transaction.
                return { continuation.resume(throwing: failure.error) }
            }
            context = appender.context
            random = appender.random
            return { continuation.resume(returning: result) }
        case .append(let requests, let continuation):
            do {
                for request in requests { try validate(request) }
            } catch {
                return { continuation.resume(throwing: error) }
            }
            var appender = RecordAppender(context: context, random: random)
            let results = try requests.map { try appender.append($0) }
            context = appender.context
            random = appender.random
            return { continuation.resume(returning: results) }
        case .operation(let operation):
            let before = context.touched
            do {
                return try context.transaction.nested { nested in
                    var inner = context.nested(in: nested)
                    let done = try operation.run(&inner)
                    context.touched = inner.touched
                    return done
                }
            } catch let error as LMDBError where error.isMapFull {
                throw error
            } catch {
                context.touched = before
                return { operation.fail(error) }
            }
        }
    }

    private func validate(_ request: AppendRequest) throws(EventLogError) {
        guard streams[request.stream] != nil else { throw .unknownStream(request.stream) }
        try request.validate(maxPayloadBytes: configuration.maxPayloadBytes)
    }
}

/// What the writer thread did, for tests that check its order.
enum WriterEvent: Sendable, Equatable {
    /// A commit returned: its pages synced, its meta page written but not synced.
    case committed(UInt64)
    /// A sync of its own returned, made after the commit numbered so had returned.
    case synced(throughCommit: UInt64)
    /// The writers of a commit are about to hear back.
    case acknowledged(commit: UInt64)
}

/// A committed group of jobs, with how to acknowledge each and the shard heads it moved.
private struct CommittedGroup {
    /// Its place among the writer's commits, counting from 1.
    var number: UInt64
    var jobs: [WriteJob]
    var completions: [() -> Void]
    var heads: [ShardKey: SequenceNumber]
}

/// A commit's acknowledgements, handed from the writer thread to the acknowledger: each is
/// called once, there, and captures only its own continuation.
private struct Acknowledgements: @unchecked Sendable {
    let completions: [() -> Void]
}
