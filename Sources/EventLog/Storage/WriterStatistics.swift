import Synchronization

/// Running totals of the writer's group commits, for benchmarks.
public struct WriterStatistics: Sendable, Equatable {
    /// Committed transactions that appended or wrote something.
    public var commits: UInt64
    /// Records appended (idempotent repeats not counted).
    public var appendedRecords: UInt64
}

/// One group commit, as a commit observer sees it.
public struct CommitObservation: Sendable {
    /// The records it appended (zero for a commit of other writes, such as checkpoints).
    public var records: UInt64
    /// Writing its transaction and syncing it.
    public var duration: Duration
}

/// Lock-free counters behind `WriterStatistics`, and the commit observer.
final class WriterCounters: Sendable {
    private let commits = Atomic<UInt64>(0)
    private let appendedRecords = Atomic<UInt64>(0)
    let observer = ObserverSlot<CommitObservation>()

    func recordCommit(records: UInt64, duration: Duration) {
        commits.add(1, ordering: .relaxed)
        appendedRecords.add(records, ordering: .relaxed)
        observer(CommitObservation(records: records, duration: duration))
    }

    var snapshot: WriterStatistics {
        WriterStatistics(
            commits: commits.load(ordering: .relaxed),
            appendedRecords: appendedRecords.load(ordering: .relaxed))
    }
}

extension Duration {
    /// The duration in whole nanoseconds (negative durations count as zero).
    var nanoseconds: UInt64 {
        let (seconds, attoseconds) = components
        return UInt64(max(0, seconds * 1_000_000_000 + attoseconds / 1_000_000_000))
    }
}
