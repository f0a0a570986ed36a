/// One entry of the log: an envelope and a JSON payload.
public struct Record: Sendable, Equatable {
    /// A time-ordered UUID.
    public var id: RecordID
    public var stream: StreamName
    public var shard: ShardID
    /// The per-shard sequence number.
    public var seq: SequenceNumber
    /// What happened, e.g. `message.created`.
    public var type: String
    /// The key that chose the shard (the channel id for chat).
    public var partitionKey: String
    /// The channel the record belongs to, if any.
    public var channelID: String?
    /// The per-channel sequence number, when `channelID` is set.
    public var channelSeq: SequenceNumber?
    /// The user id, or `agent`.
    public var actor: String
    /// When the record was appended; never decreases within a shard.
    public var createdAt: Timestamp
    public var idempotencyKey: String?
    /// The record that caused this one.
    public var causationID: RecordID?
    /// The payload as JSON bytes.
    public var payload: [UInt8]

    public init(
        id: RecordID, stream: StreamName, shard: ShardID, seq: SequenceNumber, type: String,
        partitionKey: String, channelID: String?, channelSeq: SequenceNumber?, actor: String,
        createdAt: Timestamp, idempotencyKey: String?, causationID: RecordID?, payload: [UInt8]
    ) {
        self.id = id
        self.stream = stream
        self.shard = shard
        self.seq = seq
        self.type = type
        self.partitionKey = partitionKey
        self.channelID = channelID
        self.channelSeq = channelSeq
        self.actor = actor
        self.createdAt = createdAt
        self.idempotencyKey = idempotencyKey
        self.causationID = causationID
        self.payload = payload
    }

    public var position: Position { Position(stream: stream, shard: shard, seq: seq) }

    /// The payload as a UTF-8 string.
    public var payloadText: String { String(decoding: payload, as: UTF8.self) }
}
