/// A record a consumer group gave up on after its retries, kept until re-driven or dropped.
public struct DeadLetter: Sendable, Equatable, Codable {
    public var group: String
    public var stream: StreamName
    public var shard: ShardID
    public var seq: SequenceNumber
    /// The last error's description.
    public var error: String
    public var attempts: Int
    public var failedAt: Timestamp

    public init(
        group: String, stream: StreamName, shard: ShardID, seq: SequenceNumber, error: String, attempts: Int,
        failedAt: Timestamp
    ) {
        self.group = group
        self.stream = stream
        self.shard = shard
        self.seq = seq
        self.error = error
        self.attempts = attempts
        self.failedAt = failedAt
    }

    public var position: Position { Position(stream: stream, shard: shard, seq: seq) }
}

extension Timestamp: Codable {
    public init(from decoder: any Decoder) throws {
        self.init(microseconds: try decoder.singleValueContainer().decode(Int64.self))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(microseconds)
    }
}
