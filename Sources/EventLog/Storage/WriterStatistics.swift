import Synchronization

/// Running totals of the writer's group commits, for benchmarks and metrics.
public struct WriterStatistics: Sendable, Equatable {
    /// Committed transactions that appended or wrote something.
    public var commits: UInt64
    /// Records appended (idempotent repeats not counted).
    public var appendedRecords: UInt64
    /// Time spent in commits (writing pages and syncing), in nanoseconds.
    public var commitNanoseconds: UInt64

    /// Average records per commit.
    public var averageBatchSize: Double {
        commits == 0 ? 0 : Double(appendedRecords) / Double(commits)
    }
}

/// Lock-free counters behind `WriterStatistics`.
final class WriterCounters: Sendable {
    private let commits = Atomic<UInt64>(0)
    private let appendedRecords = Atomic<UInt64>(0)
    private let commitNanoseconds = Atomic<UInt64>(0)

    func recordCommit(records: UInt64, nanoseconds: UInt64) {
        commits.add(1, ordering: .relaxed)
        appendedRecords.add(records, ordering: .relaxed)
        commitNanoseconds.add(nanoseconds, ordering: .relaxed)
    }

    var snapshot: WriterStatistics {
        WriterStatistics(
            commits: commits.load(ordering: .relaxed),
            appendedRecords: appendedRecords.load(ordering: .relaxed),
            commitNanoseconds: commitNanoseconds.load(ordering: .relaxed))
    }
}

extension Duration {
    /// The duration in whole nanoseconds (negative durations count as zero).
    var nanoseconds: UInt64 {
        let (seconds, attoseconds) = components
        return UInt64(max(0, seconds * 1_000_000_000 + attoseconds / 1_000_000_000))
    }
}
