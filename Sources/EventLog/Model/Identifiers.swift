/// A per-shard sequence number: starts at 1, contiguous, never reused.
public typealias SequenceNumber = UInt64

/// A shard of a stream, numbered from 0.
public typealias ShardID = Int

/// The name of a stream, such as `chat_events`.
public struct StreamName: RawRepresentable, Hashable, Comparable, Sendable, Codable,
    ExpressibleByStringLiteral, CustomStringConvertible
{
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public init(_ rawValue: String) { self.rawValue = rawValue }
    public init(stringLiteral value: String) { self.rawValue = value }
    public var description: String { rawValue }
    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// A shard of a named stream.
public struct ShardKey: Hashable, Sendable, CustomStringConvertible {
    public var stream: StreamName
    public var shard: ShardID
    public init(stream: StreamName, shard: ShardID) {
        self.stream = stream
        self.shard = shard
    }
    public var description: String { "\(stream)/\(shard)" }
}

/// Where a record sits in the log.
public struct Position: Hashable, Sendable, CustomStringConvertible {
    public var stream: StreamName
    public var shard: ShardID
    public var seq: SequenceNumber
    public init(stream: StreamName, shard: ShardID, seq: SequenceNumber) {
        self.stream = stream
        self.shard = shard
        self.seq = seq
    }
    public var shardKey: ShardKey { ShardKey(stream: stream, shard: shard) }
    public var description: String { "\(stream)/\(shard)/\(seq)" }
}
