import EventLog

/// The per-shard counters kept beside the records, updated in every commit that touches
/// the shard, so opening the log and describing a shard never scan it.
struct ShardMeta: Equatable {
    /// The last sequence number appended (0: none yet).
    var head: SequenceNumber = 0
    /// The oldest kept sequence number; `head + 1` when the shard is empty.
    var first: SequenceNumber = 1
    var count: UInt64 = 0
    var bytes: UInt64 = 0
    /// When the newest record was appended; new records never get an earlier time.
    var lastCreatedAt: Int64 = 0

    static let size = 40

    var encoded: [UInt8] {
        [head, first, count, bytes, UInt64(bitPattern: lastCreatedAt)].flatMap { BigEndian.bytes($0) }
    }

    init() {}

    init?(_ bytes: UnsafeRawBufferPointer) {
        guard bytes.count == Self.size else { return nil }
        head = BigEndian.read(bytes, at: 0)
        first = BigEndian.read(bytes, at: 8)
        count = BigEndian.read(bytes, at: 16)
        self.bytes = BigEndian.read(bytes, at: 24)
        lastCreatedAt = BigEndian.read(bytes, at: 32)
    }
}
