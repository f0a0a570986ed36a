import LMDB

/// Appends validated requests inside a group commit: assigns the shard sequence number, the
/// channel sequence number and the time, writes the record and its indexes, and honours
/// idempotency keys.
struct RecordAppender {
    var context: WriteContext
    var random: IDRandomSource

    private var transaction: Transaction { context.transaction }
    private var tables: StorageTables { context.tables }

    mutating func append(_ request: AppendRequest) throws -> AppendResult {
        let descriptor = context.streams[request.stream]!
        let shard = ShardKey(
            stream: request.stream,
            shard: Partitioner.shard(for: request.partitionKey, shardCount: descriptor.shardCount))
        let idempotencyKey = request.idempotencyKey.map {
            StorageKeys.idempotency(stream: request.stream, key: $0)
        }
        if let idempotencyKey, let original = try originalRecord(for: idempotencyKey, stream: request.stream)
        {
            return AppendResult(record: original, isDuplicate: true)
        }
        var meta = context.meta(shard)
        let createdAt = Timestamp(microseconds: max(context.now.microseconds, meta.lastCreatedAt))
        let record = Record(
            id: RecordID(time: createdAt, random: random.next()),
            stream: request.stream,
            shard: shard.shard,
            seq: meta.head + 1,
            type: request.type,
            partitionKey: request.partitionKey,
            channelID: request.channelID,
            channelSeq: try request.channelID.map {
                try nextChannelSeq(stream: request.stream, channelID: $0)
            },
            actor: request.actor,
            createdAt: createdAt,
            idempotencyKey: request.idempotencyKey,
            causationID: request.causationID,
            payload: request.payload)
        let size = RecordCodec.encodedSize(record)
        try withUnsafeBytes(of: record.seq.bigEndian) { key in
            try transaction.reserve(try tables.records(shard), key: key, size: size, options: .append) {
                buffer in
                RecordCodec.encode(record, into: buffer)
            }
        }
        if let channelID = record.channelID, let channelSeq = record.channelSeq {
            try transaction.put(
                tables.channelIndex,
                key: StorageKeys.channelIndex(
                    stream: record.stream, channelID: channelID, channelSeq: channelSeq),
                value: StoredPosition(shard: record.shard, seq: record.seq).bytes)
        }
        if let idempotencyKey {
            let expiresAt = request.idempotencyTTL.map { createdAt.adding($0) }
            try transaction.put(
                tables.idempotency, key: idempotencyKey,
                value: StoredPosition(
                    shard: record.shard, seq: record.seq, expiresAt: expiresAt?.microseconds ?? 0
                )
                .bytes)
            if let expiresAt {
                try transaction.put(
                    tables.idempotencyExpiry,
                    key: StorageKeys.idempotencyExpiry(expiresAt, idempotencyKey: idempotencyKey), value: [])
            }
        }
        meta.head = record.seq
        meta.count += 1
        meta.bytes += UInt64(size)
        meta.lastCreatedAt = createdAt.microseconds
        context.touched[shard] = meta
        return AppendResult(record: record, isDuplicate: false)
    }

    /// The record a still-valid idempotency key points to.
    private func originalRecord(for key: [UInt8], stream: StreamName) throws -> Record? {
        guard let stored = try transaction.get(tables.idempotency, key: key),
            let position = stored.withUnsafeBytes({ StoredPosition($0) })
        else { return nil }
        if position.expiresAt != 0, position.expiresAt <= context.now.microseconds { return nil }
        let shard = ShardKey(stream: stream, shard: position.shard)
        return try StoredRecords.record(at: position.seq, shard: shard, in: transaction, tables: tables)
    }

    private func nextChannelSeq(stream: StreamName, channelID: String) throws -> SequenceNumber {
        let key = StorageKeys.channelHead(stream: stream, channelID: channelID)
        let head: SequenceNumber =
            try transaction.get(tables.channelHeads, key: key).map { bytes in
                bytes.withUnsafeBytes { StorageKeys.readBigEndian($0) }
            } ?? 0
        try transaction.put(tables.channelHeads, key: key, value: StorageKeys.bigEndian(head + 1))
        return head + 1
    }
}

/// Reads of stored records shared by the writer and the readers.
enum StoredRecords {
    static func record(
        at seq: SequenceNumber, shard: ShardKey, in transaction: Transaction, tables: StorageTables
    ) throws -> Record? {
        let database = try tables.records(shard)
        return try withUnsafeBytes(of: seq.bigEndian) { key in
            try transaction.withValue(database, key: key) { bytes in
                try bytes.map {
                    try decode($0, at: Position(stream: shard.stream, shard: shard.shard, seq: seq))
                }
            }
        }
    }

    static func decode(_ bytes: UnsafeRawBufferPointer, at position: Position) throws(EventLogError) -> Record
    {
        do {
            return try RecordCodec.decode(bytes)
        } catch {
            throw .corrupted(position, error.description)
        }
    }

    /// The append time stored in a record's header, read without decoding the record.
    static func createdAt(_ bytes: UnsafeRawBufferPointer) -> Timestamp {
        Timestamp(microseconds: Int64(littleEndian: bytes.loadUnaligned(fromByteOffset: 24, as: Int64.self)))
    }
}
