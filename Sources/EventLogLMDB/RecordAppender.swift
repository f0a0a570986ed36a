import EventLog
import LMDB

/// Appends validated requests inside a group commit: assigns the shard sequence number, the
/// channel sequence number and the time, writes the record and its indexes, and honours
/// idempotency keys. Keys are built in one reused buffer: this is the hot path.
struct RecordAppender {
    var context: WriteContext
    var random: IDRandomSource
    private var key: [UInt8] = []

    init(context: WriteContext, random: IDRandomSource) {
        self.context = context
        self.random = random
        key.reserveCapacity(2048)
    }

    private var transaction: Transaction { context.transaction }
    private var tables: StorageTables { context.tables }

    /// Appends a request. With `identity` (a replica folding what a replicated log ordered),
    /// the record gets that id and time instead of new ones, and the time also judges whether
    /// an idempotency key has expired: every replica then decides alike.
    mutating func append(_ request: AppendRequest, as identity: RecordIdentity? = nil) throws -> AppendResult
    {
        let descriptor = context.streams[request.stream]!
        let shard = ShardKey(
            stream: request.stream,
            shard: Partitioner.shard(for: request.partitionKey, shardCount: descriptor.shardCount))
        if let idempotencyKey = request.idempotencyKey,
            let original = try originalRecord(
                for: idempotencyKey, stream: request.stream, now: identity?.time ?? context.now)
        {
            return AppendResult(record: original, isDuplicate: true)
        }
        let previousHead = try request.channelID.map {
            try channelHead(stream: request.stream, channelID: $0)
        }
        try admit(request, after: previousHead)
        var meta = context.meta(shard)
        let seq = meta.head + 1
        let createdAt = Timestamp(
            microseconds: max((identity?.time ?? context.now).microseconds, meta.lastCreatedAt))
        let record = Record(
            id: identity?.id ?? RecordID(time: createdAt, random: random.next()),
            stream: request.stream,
            shard: shard.shard,
            seq: seq,
            type: request.type,
            partitionKey: request.partitionKey,
            channelID: request.channelID,
            channelSeq: previousHead.map { $0.channelSeq + 1 },
            actor: request.actor,
            createdAt: createdAt,
            idempotencyKey: request.idempotencyKey,
            causationID: request.causationID,
            payload: request.payload)
        try write(record, after: previousHead, idempotencyTTL: request.idempotencyTTL, meta: &meta)
        context.touched[shard] = meta
        return AppendResult(record: record, isDuplicate: false)
    }

    /// Writes a numbered record with its indexes and folds it into the projections.
    private mutating func write(
        _ record: Record, after previousHead: ChannelHead?, idempotencyTTL: Duration?, meta: inout ShardMeta
    ) throws {
        let createdAt = record.createdAt
        if let channelID = record.channelID, let previousHead {
            try storeChannelHead(
                ChannelHead(
                    channelSeq: previousHead.channelSeq + 1,
                    position: StoredPosition(shard: record.shard, seq: record.seq)),
                stream: record.stream, channelID: channelID)
        }
        let size = RecordCodec.encodedSize(record)
        let shard = ShardKey(stream: record.stream, shard: record.shard)
        try withUnsafeBytes(of: record.seq.bigEndian) { seqKey in
            try transaction.reserve(try tables.records(shard), key: seqKey, size: size, options: .append) {
                RecordCodec.encode(record, into: $0)
            }
        }
        if let channelID = record.channelID, let previousHead {
            try linkChannelRecord(record, channelID: channelID, after: previousHead)
        }
        if let idempotencyKey = record.idempotencyKey {
            let expiresAt = idempotencyTTL.map { createdAt.adding($0) }
            StorageKeys.idempotency(stream: record.stream, key: idempotencyKey, into: &key)
            try put(
                tables.idempotency,
                StoredPosition(shard: record.shard, seq: record.seq, expiresAt: expiresAt?.microseconds ?? 0))
            if let expiresAt {
                let expiryKey = StorageKeys.idempotencyExpiry(expiresAt, idempotencyKey: key)
                try transaction.put(tables.idempotencyExpiry, key: expiryKey, value: [])
            }
        }
        if !context.projections.isEmpty {
            let store = context.projectionStore
            for projection in context.projections { try projection.apply(record, to: store) }
        }
        meta.head = record.seq
        meta.count += 1
        meta.bytes += UInt64(size)
        meta.lastCreatedAt = createdAt.microseconds
    }

    /// Stores `position` under the key currently in the buffer.
    private func put(_ database: Database, _ position: StoredPosition) throws {
        try position.withBytes { value in
            try key.withUnsafeBytes { key in try transaction.put(database, key: key, value: value) }
        }
    }

    /// The record a still-valid idempotency key points to.
    private mutating func originalRecord(for idempotencyKey: String, stream: StreamName, now: Timestamp)
        throws
        -> Record?
    {
        StorageKeys.idempotency(stream: stream, key: idempotencyKey, into: &key)
        let stored = try transaction.withValue(tables.idempotency, key: key) {
            $0.flatMap(StoredPosition.init)
        }
        guard let stored else { return nil }
        if stored.expiresAt != 0, stored.expiresAt <= now.microseconds { return nil }
        let shard = ShardKey(stream: stream, shard: stored.shard)
        return try StoredRecords.record(at: stored.seq, shard: shard, in: transaction, tables: tables)
    }

    /// Runs the request's conditions before anything of it is written: the channel head it
    /// expects, and every projection's rules. A refusal is what the appender gets.
    private func admit(_ request: AppendRequest, after head: ChannelHead?) throws {
        do {
            if let expected = request.expectedChannelHead, let channelID = request.channelID,
                let actual = head?.channelSeq, actual != expected
            {
                throw EventLogError.channelHeadMoved(channelID: channelID, expected: expected, actual: actual)
            }
            guard !context.projections.isEmpty else { return }
            let store = context.projectionStore
            for projection in context.projections { try projection.admit(request, given: store) }
        } catch {
            throw AppendRefusal(error: error)
        }
    }

    /// A channel's head: the record the next one of the channel follows.
    private mutating func channelHead(stream: StreamName, channelID: String) throws -> ChannelHead {
        StorageKeys.channelHead(stream: stream, channelID: channelID, into: &key)
        return try key.withUnsafeBytes { key in
            try transaction.withValue(tables.channelHeads, key: key) { value in
                guard let value else { return ChannelHead(channelSeq: 0, position: nil) }
                guard let head = ChannelHead(value) else {
                    throw EventLogError.storage("the head of channel \(channelID) is malformed")
                }
                return head
            }
        }
    }

    /// Moves a channel's head to the record about to be written.
    private mutating func storeChannelHead(_ head: ChannelHead, stream: StreamName, channelID: String) throws
    {
        StorageKeys.channelHead(stream: stream, channelID: channelID, into: &key)
        try head.withBytes { value in
            try key.withUnsafeBytes { key in try transaction.put(tables.channelHeads, key: key, value: value)
            }
        }
    }

    /// Makes a channel record findable by its channelSeq: it links back to the channel's
    /// previous record, and every `channelAnchorInterval`th record gets a channel index entry.
    /// Only the index entry lands on a page of its own channel: links append in seq order and
    /// the head is one small entry per channel.
    private mutating func linkChannelRecord(
        _ record: Record, channelID: String, after previous: ChannelHead
    ) throws {
        if let before = previous.position, before.shard == record.shard, let links = tables.channelLinks {
            StorageKeys.channelLink(stream: record.stream, shard: record.shard, seq: record.seq, into: &key)
            try withUnsafeBytes(of: before.seq.bigEndian) { value in
                try key.withUnsafeBytes { key in try transaction.put(links, key: key, value: value) }
            }
        }
        let channelSeq = previous.channelSeq + 1
        if channelSeq % StorageKeys.channelAnchorInterval == 0 {
            StorageKeys.channelIndex(
                stream: record.stream, channelID: channelID, channelSeq: channelSeq, into: &key)
            try put(tables.channelIndex, StoredPosition(shard: record.shard, seq: record.seq))
        }
    }
}

/// The id and time a replicated log gave a record before any replica stored it.
public struct RecordIdentity: Sendable, Equatable {
    public var id: RecordID
    public var time: Timestamp

    public init(id: RecordID, time: Timestamp) {
        self.id = id
        self.time = time
    }
}

/// A request's conditions refused it before any of it was written; `error` is what its caller gets.
struct AppendRefusal: Error {
    var error: any Error
}

/// A job failed after some of its writes: the group commit is retried without it.
struct AbortJob: Error {
    var index: Int
    var error: any Error
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
