import Synchronization

/// Running totals of the writer's group commits, for benchmarks.
public struct WriterStatistics: Sendable, Equatable {
    /// Committed transactions that appended or wrote something.
    public var commits: UInt64
    /// Records appended (idempotent repeats not counted).
    public var appendedRecords: UInt64
    /// Of `commits`, how many are known to be on disk: all of them with strict durability; with
    /// relaxed durability, those the last periodic sync covered.
    public var syncedCommits: UInt64
    /// Disk syncs: with strict durability one inside every commit, plus those the writer ran
    /// on their own to make a last commit durable (or, relaxed, the periodic ones).
    public var syncs: UInt64

    package init(commits: UInt64, appendedRecords: UInt64, syncedCommits: UInt64, syncs: UInt64 = 0) {
        self.commits = commits
        self.appendedRecords = appendedRecords
        self.syncedCommits = syncedCommits
        self.syncs = syncs
    }
}

/// One group commit, as a commit observer sees it.
public struct CommitObservation: Sendable {
    /// The records it appended (zero for a commit of other writes, such as checkpoints).
    public var records: UInt64
    /// Writing its transaction and syncing it.
    public var duration: Duration

    package init(records: UInt64, duration: Duration) {
        self.records = records
        self.duration = duration
    }
}

/// Lock-free counters behind `WriterStatistics`, and the commit observer.
package final class WriterCounters: Sendable {
    private let commits = Atomic<UInt64>(0)
    private let appendedRecords = Atomic<UInt64>(0)
    private let syncedCommits = Atomic<UInt64>(0)
    private let syncs = Atomic<UInt64>(0)
    package let observer = ObserverSlot<CommitObservation>()

    package init() {}

    /// Counts a commit and returns its number (from 1).
    @discardableResult
    package func recordCommit(records: UInt64, duration: Duration, relaxed: Bool) -> UInt64 {
        let count = commits.add(1, ordering: .relaxed).newValue
        appendedRecords.add(records, ordering: .relaxed)
        if !relaxed { syncs.add(1, ordering: .relaxed) }
        observer(CommitObservation(records: records, duration: duration))
        return count
    }

    /// The writer ran a sync of its own (besides the one inside each strict commit).
    package func recordStandaloneSync() {
        syncs.add(1, ordering: .relaxed)
    }

    /// A sync made the first `count` commits durable.
    package func recordSync(through count: UInt64) {
        syncedCommits.store(count, ordering: .relaxed)
    }

    package var hasUnsyncedCommits: Bool {
        syncedCommits.load(ordering: .relaxed) < commits.load(ordering: .relaxed)
    }

    package var snapshot: WriterStatistics {
        WriterStatistics(
            commits: commits.load(ordering: .relaxed),
            appendedRecords: appendedRecords.load(ordering: .relaxed),
            syncedCommits: syncedCommits.load(ordering: .relaxed),
            syncs: syncs.load(ordering: .relaxed))
    }
}

extension Duration {
    /// The duration in whole nanoseconds (negative durations count as zero).
    package var nanoseconds: UInt64 {
        let (seconds, attoseconds) = components
        return UInt64(max(0, seconds * 1_000_000_000 + attoseconds / 1_000_000_000))
    }
}
