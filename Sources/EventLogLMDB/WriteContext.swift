import EventLog
import LMDB

/// What a group commit's writes see: the transaction, the tables and the shard counters as
/// they stand inside the transaction (committed to the writer's cache only after commit).
struct WriteContext {
    let transaction: Transaction
    let tables: StorageTables
    let streams: [StreamName: StreamDescriptor]
    let projections: [any Projection]
    let now: Timestamp
    private let committed: [ShardKey: ShardMeta]
    /// The counters of the shards this commit touched.
    var touched: [ShardKey: ShardMeta] = [:]

    init(
        transaction: Transaction, tables: StorageTables, streams: [StreamName: StreamDescriptor],
        projections: [any Projection], now: Timestamp, committed: [ShardKey: ShardMeta]
    ) {
        self.transaction = transaction
        self.tables = tables
        self.streams = streams
        self.projections = projections
        self.now = now
        self.committed = committed
    }

    /// The same view over a nested transaction.
    func nested(in transaction: Transaction) -> WriteContext {
        var context = WriteContext(
            transaction: transaction, tables: tables, streams: streams, projections: projections, now: now,
            committed: committed)
        context.touched = touched
        return context
    }

    func meta(_ shard: ShardKey) -> ShardMeta {
        touched[shard] ?? committed[shard] ?? ShardMeta()
    }

    /// The projection tables, seen through this transaction.
    var projectionStore: LMDBProjectionStore {
        LMDBProjectionStore(transaction: transaction, databases: tables.projections)
    }

    /// Writes the touched shards' counters into the transaction.
    func saveTouchedMetas() throws {
        for (shard, meta) in touched {
            try transaction.put(tables.shards, key: StorageKeys.shard(shard), value: meta.encoded)
        }
    }
}
