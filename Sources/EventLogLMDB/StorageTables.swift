import EventLog
import LMDB

/// The LMDB databases of one log, opened once when the log opens.
struct StorageTables: Sendable {
    /// Stream name → shard count (u16).
    var streams: Database
    /// Stream + shard → `ShardMeta`.
    var shards: Database
    /// Stream + channel id → the last channelSeq (u64) and where its record is (shard u16,
    /// seq u64). Logs written before the channel links hold the channelSeq alone.
    var channelHeads: Database
    /// Stream + channel id + channelSeq → `StoredPosition`, for every `channelAnchorInterval`th
    /// record of a channel (every record in logs written before the channel links).
    var channelIndex: Database
    /// Stream + shard + seq → the seq (u64) of the previous record of the same channel, in the
    /// same shard. Keys grow with the log, so appends touch only the last page of each shard's
    /// range. Nil when a read-only log predates the links.
    var channelLinks: Database?
    /// Stream + idempotency key → `StoredPosition` with expiry.
    var idempotency: Database
    /// Expiry time + idempotency key → nothing; walked to forget expired keys.
    var idempotencyExpiry: Database
    /// Group + stream + shard → checkpoint seq (u64) and update time (i64).
    var checkpoints: Database
    /// Group + stream + shard + seq → a `DeadLetter` (JSON).
    var deadLetters: Database
    /// One records database per shard: seq → encoded record.
    var records: [ShardKey: Database]
    /// Projection table name → its database.
    var projections: [String: Database] = [:]
    /// State table name → its database.
    var state: [String: Database] = [:]

    static let fixedNames = [
        "streams", "shards", "channel_heads", "channel_index", "idempotency", "idempotency_expiry",
        "checkpoints", "dead_letters",
    ]

    static let channelLinksName = "channel_links"

    static func recordsName(_ shard: ShardKey) -> String {
        "records/\(shard.stream)/\(shard.shard)"
    }

    /// Opens the fixed databases, creating them when `create` is set.
    static func open(in transaction: Transaction, create: Bool) throws -> StorageTables {
        let options: Database.Options = create ? .create : []
        let handles = try fixedNames.map { try transaction.openDatabase($0, options: options) }
        return StorageTables(
            streams: handles[0], shards: handles[1], channelHeads: handles[2], channelIndex: handles[3],
            channelLinks: nil, idempotency: handles[4], idempotencyExpiry: handles[5],
            checkpoints: handles[6],
            deadLetters: handles[7], records: [:],
            projections: [:])
    }

    func records(_ shard: ShardKey) throws(EventLogError) -> Database {
        guard let database = records[shard] else {
            throw .unknownShard(shard.stream, shard.shard)
        }
        return database
    }
}
