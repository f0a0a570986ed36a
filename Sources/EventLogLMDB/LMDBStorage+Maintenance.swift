import CChecksum
import EventLog
import Foundation
import LMDB

extension LMDBStorage {
    /// Writes a hot, consistent and compacted copy of the log into `directory/log`. It runs in
    /// one read transaction, so it works beside a running server and never blocks its writer.
    public func backup(to directory: String) throws {
        let path = Self.environmentPath(directory)
        try PrivateDirectory.create(path)
        guard (try? FileManager.default.contentsOfDirectory(atPath: path))?.isEmpty ?? false else {
            throw EventLogError.invalidArgument("\(path) is not empty: back up into a new directory")
        }
        do {
            try environment.copy(to: path, compact: true)
        } catch {
            throw EventLogError.storage("backup failed: \(error)")
        }
        try PrivateDirectory.tighten(directory)
    }

    /// Every projection table's digest, read in one snapshot.
    public func projectionDigests() throws -> [String: TableDigest] {
        try reading { try Self.digests(of: tables.projections, in: $0) }
    }

    static func digests(of databases: [String: Database], in transaction: Transaction) throws
        -> [String: TableDigest]
    {
        do {
            var digests: [String: TableDigest] = [:]
            for (name, database) in databases {
                digests[name] = try transaction.withCursor(database) { cursor in
                    var digest = TableDigest(entries: 0, checksum: 0)
                    var entry = try cursor.first()
                    while let (key, value) = entry {
                        for part in [key, value] {
                            var length = UInt32(part.count).bigEndian
                            digest.checksum = withUnsafeBytes(of: &length) {
                                chatlog_crc32c(digest.checksum, $0.baseAddress, 4)
                            }
                            digest.checksum = chatlog_crc32c(digest.checksum, part.baseAddress, part.count)
                        }
                        digest.entries += 1
                        entry = try cursor.next()
                    }
                    return digest
                }
            }
            return digests
        }
    }

    /// Folds every record into fresh projection tables in a scratch environment and returns the
    /// tables whose contents differ from the live ones (of those the log has); nil when
    /// retention has trimmed records
    /// (the live projections then rightly keep what the trimmed records built).
    public func projectionMismatches(progress: (UInt64, UInt64) -> Void) throws -> [String]? {
        let shards = streams.flatMap(\.shards)
        guard try shards.allSatisfy({ try shardInfo($0).firstSeq == 1 }) else { return nil }
        let scratch = NSTemporaryDirectory() + "chatlog-verify-" + UUID().uuidString.lowercased()
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        var options = Environment.Options()
        options.mapSize = 1 << 40
        options.maxDatabases = 4096
        options.syncOnCommit = false
        let environment = try Environment(path: scratch, options: options)
        defer { environment.close() }
        let databases = try environment.write { transaction in
            try Dictionary(
                uniqueKeysWithValues: projections.flatMap(\.tables).map {
                    ($0, try transaction.openDatabase(LMDBProjectionStore.databaseName($0), options: .create))
                })
        }
        var pages = try RecordPages(self)
        while let records = try pages.next() {
            try environment.write { transaction in
                let store = LMDBProjectionStore(transaction: transaction, databases: databases)
                for record in records {
                    for projection in projections { try projection.apply(record, to: store) }
                }
            }
            progress(pages.read, pages.total)
        }
        let rebuilt = try environment.read { try Self.digests(of: databases, in: $0) }
        // Tables a log never had (it was written without that projection) are not compared.
        let live = try projectionDigests()
        return live.keys.sorted().filter { live[$0] != rebuilt[$0] }
    }

    /// Empties every projection table and folds the whole log into them again, each shard in
    /// sequence order (projections depend only on the order within a partition, which lives in
    /// one shard). Needs the writer: run it with the server stopped. Returns the records folded.
    @discardableResult
    public func rebuildProjections(progress: (UInt64, UInt64) -> Void) async throws -> UInt64 {
        try await writing { context in
            for database in context.tables.projections.values { try context.transaction.clear(database) }
        }
        var pages = try RecordPages(self)
        while let records = try pages.next() {
            try await writing { context in
                let store = context.projectionStore
                for record in records {
                    for projection in context.projections { try projection.apply(record, to: store) }
                }
            }
            progress(pages.read, pages.total)
        }
        return pages.read
    }
}

/// Every record of a log a page at a time, shard by shard in sequence order: how projections
/// are folded afresh (the order within a partition is all they depend on).
struct RecordPages {
    private let storage: LMDBStorage
    private var shards: [ShardKey]
    private var after: SequenceNumber = 0
    /// Records in the log when the walk began, and records returned so far.
    let total: UInt64
    private(set) var read: UInt64 = 0

    init(_ storage: LMDBStorage) throws {
        self.storage = storage
        shards = storage.streams.flatMap(\.shards)
        total = try shards.reduce(UInt64(0)) { $0 + (try storage.shardInfo($1).recordCount) }
    }

    mutating func next() throws -> [Record]? {
        while let shard = shards.first {
            let records = try storage.loadNext(shard, after: after, limit: 5_000, maxBytes: 16 << 20)
            if let last = records.last {
                after = last.seq
                read += UInt64(records.count)
                return records
            }
            shards.removeFirst()
            after = 0
        }
        return nil
    }
}
