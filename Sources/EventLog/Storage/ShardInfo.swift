/// The state of one shard.
public struct ShardInfo: Sendable, Equatable {
    public var stream: StreamName
    public var shard: ShardID
    /// The oldest sequence number still kept (the trim horizon); `head + 1` when empty.
    public var firstSeq: SequenceNumber
    /// The last sequence number appended; 0 before the first append.
    public var head: SequenceNumber
    /// Records currently kept.
    public var recordCount: UInt64
    /// Bytes of stored records currently kept.
    public var bytes: UInt64
    /// When the oldest kept record was appended.
    public var oldestCreatedAt: Timestamp?
    /// When the newest record was appended.
    public var newestCreatedAt: Timestamp?

    public init(
        stream: StreamName, shard: ShardID, firstSeq: SequenceNumber, head: SequenceNumber,
        recordCount: UInt64,
        bytes: UInt64, oldestCreatedAt: Timestamp?, newestCreatedAt: Timestamp?
    ) {
        self.stream = stream
        self.shard = shard
        self.firstSeq = firstSeq
        self.head = head
        self.recordCount = recordCount
        self.bytes = bytes
        self.oldestCreatedAt = oldestCreatedAt
        self.newestCreatedAt = newestCreatedAt
    }

    public var key: ShardKey { ShardKey(stream: stream, shard: shard) }
}

/// A stream's name and shard count as stored.
public struct StreamDescriptor: Sendable, Equatable {
    public var name: StreamName
    public var shardCount: Int

    public init(name: StreamName, shardCount: Int) {
        self.name = name
        self.shardCount = shardCount
    }

    public var shards: [ShardKey] { (0..<shardCount).map { ShardKey(stream: name, shard: $0) } }
}

/// A consumer group's checkpoint on one shard: the last sequence number it has fully
/// processed (0: nothing yet). Processing resumes at `seq + 1`.
public struct Checkpoint: Sendable, Equatable {
    public var group: String
    public var stream: StreamName
    public var shard: ShardID
    public var seq: SequenceNumber
    public var updatedAt: Timestamp

    public init(group: String, stream: StreamName, shard: ShardID, seq: SequenceNumber, updatedAt: Timestamp)
    {
        self.group = group
        self.stream = stream
        self.shard = shard
        self.seq = seq
        self.updatedAt = updatedAt
    }
}

/// What one retention pass removed.
public struct RetentionReport: Sendable, Equatable {
    public var trimmedRecords: [ShardKey: UInt64] = [:]
    public var expiredIdempotencyKeys = 0

    public init() {}

    public var totalTrimmed: UInt64 { trimmedRecords.values.reduce(0, +) }
}
