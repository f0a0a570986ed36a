import LMDB

/// Facts about the storage behind a log, for `chatlog log stats` and metrics.
public struct StorageStatistics: Sendable {
    public var mapSize: Int
    public var maxMapSize: Int
    public var usedBytes: Int
    public var fileSize: Int
    public var pageSize: Int
    public var readers: Int
    public var maxReaders: Int
    public var lastTransactionID: Int
    public var channels: Int
    public var channelIndexEntries: Int
    public var idempotencyKeys: Int
    public var checkpoints: Int
    public var durability: String
}

extension LMDBStorage {
    /// The id of the last commit a read sees now: it changes whenever any process commits to
    /// this log. A reader in another process, which no commit wake-up reaches, checks it before
    /// it reads. (The meta page shows a commit a moment before reads see it: not that one.)
    public func lastCommittedTransaction() throws -> Int {
        try reading { $0.id }
    }

    public func statistics() throws -> StorageStatistics {
        let info = environment.info
        let counts = try reading { transaction in
            (
                try transaction.count(tables.channelHeads), try transaction.count(tables.channelIndex),
                try transaction.count(tables.idempotency), try transaction.count(tables.checkpoints)
            )
        }
        let durability: String =
            switch configuration.durability {
            case .strict: "strict"
            case .relaxed(let interval): "relaxed (sync every \(interval))"
            }
        return StorageStatistics(
            mapSize: info.mapSize, maxMapSize: configuration.maxMapSize, usedBytes: info.usedBytes,
            fileSize: environment.fileSize, pageSize: info.pageSize, readers: info.readers,
            maxReaders: info.maxReaders, lastTransactionID: info.lastTransactionID, channels: counts.0,
            channelIndexEntries: counts.1, idempotencyKeys: counts.2, checkpoints: counts.3,
            durability: durability)
    }
}
