/// What operators and tools do to a log beside reading and writing it. Each backend implements
/// it as it can: LMDB copies its file for a backup; a replicated backend may refuse what its
/// servers do themselves.
public protocol LogMaintenance: Sendable {
    /// Finishes queued writes and releases the log. Later calls fail with `closed`.
    func close()

    /// Totals of the group commits since the log was opened (zero when read-only).
    var writerStatistics: WriterStatistics { get }

    /// Calls `observer` after each group commit, on the writer's thread: it must be quick (a
    /// metrics histogram, say). A later call replaces the observer.
    func observeCommits(_ observer: @escaping @Sendable (CommitObservation) -> Void)

    /// Facts about the storage, for `chatlog log stats` and metrics.
    func statistics() throws -> StorageStatistics

    /// Checks every stored record: checksums, contiguous sequence numbers, indexes.
    func verify(progress: (UInt64, UInt64) -> Void) throws -> VerifyReport

    /// Writes a hot, consistent copy of the log into `directory`, beside a running writer.
    func backup(to directory: String) throws

    /// Every projection table's digest, read in one snapshot.
    func projectionDigests() throws -> [String: TableDigest]

    /// The projection tables whose folded state differs from a fold of the whole log; nil when
    /// retention has trimmed records (the live tables then rightly keep what those built).
    func projectionMismatches(progress: (UInt64, UInt64) -> Void) throws -> [String]?

    /// Empties every projection table and folds the whole log into them again; returns the
    /// records folded. Needs the writer.
    @discardableResult func rebuildProjections(progress: (UInt64, UInt64) -> Void) async throws -> UInt64

    /// Lets a reader that no commit wake-up reaches (another process) wait for the next commit.
    func commitFollower() throws -> any CommitFollower
}

extension LogMaintenance {
    public func verify() throws -> VerifyReport { try verify(progress: { _, _ in }) }
    public func projectionMismatches() throws -> [String]? { try projectionMismatches(progress: { _, _ in }) }
    @discardableResult public func rebuildProjections() async throws -> UInt64 {
        try await rebuildProjections(progress: { _, _ in })
    }
}

/// Waits for commits made by another process (`chatlog log tail --follow`).
public protocol CommitFollower: Sendable {
    /// An id of the log's last commit, as a read taken now would see it.
    func lastCommit() throws -> Int

    /// The last commit once it is no longer `seen`, or `seen` when `timeout` passes first. Pass
    /// the one taken before the records were read: a commit in between is seen.
    func next(after seen: Int, timeout: Duration) async throws -> Int
}

/// A log with everything: what the server and the commands hold.
public typealias LogBackend = LogStorage & LogMaintenance
