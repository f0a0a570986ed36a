import EventLog
import LMDB

extension LMDBStorage {
    /// Records removed per commit, so a large trim never holds up appends for long.
    static let trimChunk = 5_000

    public func enforceRetention(now: Timestamp) async throws -> RetentionReport {
        var report = RetentionReport()
        for stream in streams {
            guard let retention = configuration.stream(stream.name)?.retention, !retention.keepsEverything
            else {
                continue
            }
            for shard in stream.shards {
                // Deleting writes pages too: in a full map a large chunk may find no room, where
                // smaller ones still do and free it for the next.
                var limit = Self.trimChunk
                while true {
                    let trimmed: UInt64
                    do {
                        trimmed = try await writing { [limit] context in
                            try Self.trim(shard, retention: retention, now: now, limit: limit, in: &context)
                        }
                    } catch EventLogError.storageFull where limit > 1 {
                        limit = max(1, limit / 10)
                        continue
                    }
                    if trimmed > 0 { report.trimmedRecords[shard, default: 0] += trimmed }
                    if trimmed < limit { break }
                    limit = min(Self.trimChunk, limit * 10)
                }
            }
        }
        while true {
            let expired = try await writing { context in
                try Self.expireIdempotencyKeys(now: now, limit: Self.trimChunk, in: context)
            }
            report.expiredIdempotencyKeys += expired
            if expired < Self.trimChunk { break }
        }
        if report.totalTrimmed > 0 || report.expiredIdempotencyKeys > 0 {
            logger.info(
                "retention trimmed \(report.totalTrimmed) records and \(report.expiredIdempotencyKeys) idempotency keys"
            )
        }
        return report
    }

    /// Removes up to `limit` of the oldest records of a shard that its retention no longer keeps.
    static func trim(
        _ shard: ShardKey, retention: Retention, now: Timestamp, limit: Int, in context: inout WriteContext
    ) throws -> UInt64 {
        var meta = context.meta(shard)
        let floor =
            retention.trimUnprocessed ? meta.head : try slowestCheckpoint(shard, in: context, head: meta.head)
        let cutoff = retention.maxAge.map { now.adding(.zero - $0) }
        let transaction = context.transaction
        let tables = context.tables
        var trimmed: UInt64 = 0
        try transaction.withCursor(try tables.records(shard)) { cursor in
            while trimmed < limit, let (key, value) = try cursor.first() {
                let seq: SequenceNumber = BigEndian.read(key)
                let tooOld = cutoff.map { StoredRecords.createdAt(value) < $0 } ?? false
                let tooLarge = retention.maxBytesPerShard.map { meta.bytes > UInt64($0) } ?? false
                guard seq <= floor, tooOld || tooLarge else { break }
                let size = UInt64(value.count)
                let record = try? RecordCodec.decode(value)
                try cursor.deleteCurrent()
                if let record {
                    try removeIndexEntries(of: record, in: context)
                    for projection in context.projections {
                        try projection.trimmed(record, from: context.projectionStore)
                    }
                }
                meta.first = seq + 1
                meta.count -= 1
                meta.bytes -= size
                trimmed += 1
            }
        }
        if trimmed > 0 { context.touched[shard] = meta }
        return trimmed
    }

    /// The lowest checkpoint any consumer group holds on the shard; the head when none does.
    private static func slowestCheckpoint(
        _ shard: ShardKey, in context: WriteContext, head: SequenceNumber
    ) throws -> SequenceNumber {
        try checkpoints(in: context.transaction, tables: context.tables)
            .filter { $0.stream == shard.stream && $0.shard == shard.shard }
            .map(\.seq)
            .min() ?? head
    }

    private static func removeIndexEntries(of record: Record, in context: WriteContext) throws {
        if let channelID = record.channelID, let channelSeq = record.channelSeq {
            // Only anchors (and records of logs written before the links) have an index entry.
            try context.transaction.delete(
                context.tables.channelIndex,
                key: StorageKeys.channelIndex(
                    stream: record.stream, channelID: channelID, channelSeq: channelSeq))
            if let links = context.tables.channelLinks {
                try context.transaction.delete(
                    links,
                    key: StorageKeys.channelLink(stream: record.stream, shard: record.shard, seq: record.seq))
            }
        }
        if let key = record.idempotencyKey {
            let storageKey = StorageKeys.idempotency(stream: record.stream, key: key)
            let stored = try context.transaction.get(context.tables.idempotency, key: storageKey)
                .flatMap { $0.withUnsafeBytes { StoredPosition($0) } }
            if let stored, stored.shard == record.shard, stored.seq == record.seq {
                try context.transaction.delete(context.tables.idempotency, key: storageKey)
            }
        }
    }

    /// Forgets up to `limit` idempotency keys whose time to live has passed.
    static func expireIdempotencyKeys(now: Timestamp, limit: Int, in context: WriteContext) throws -> Int {
        let transaction = context.transaction
        let tables = context.tables
        var expired = 0
        try transaction.withCursor(tables.idempotencyExpiry) { cursor in
            while expired < limit, let (key, _) = try cursor.first() {
                let expiresAt = Int64(bitPattern: BigEndian.read(key) as UInt64)
                guard expiresAt <= now.microseconds else { break }
                let idempotencyKey = Array(key[8...])
                try cursor.deleteCurrent()
                let stored = try transaction.get(tables.idempotency, key: idempotencyKey)
                    .flatMap { $0.withUnsafeBytes { StoredPosition($0) } }
                // A key reused after it expired has a newer expiry; keep that one.
                if stored?.expiresAt == expiresAt {
                    try transaction.delete(tables.idempotency, key: idempotencyKey)
                }
                expired += 1
            }
        }
        return expired
    }
}
