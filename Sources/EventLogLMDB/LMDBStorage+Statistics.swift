import EventLog
import LMDB

extension LMDBStorage {
    public func commitFollower() throws -> any CommitFollower {
        CommitWatcher(storage: self)
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
