/// A channel as clients see it.
public struct Channel: Codable, Equatable, Sendable {
    public var id: String
    public var name: String
    public var members: [String]
    /// Whether the AI agent answers in the channel.
    public var agent: Bool
    public var createdBy: String
    /// RFC 3339 with microseconds.
    public var createdAt: String
    /// The caller's read marker: the channel seq it has read through (0: nothing yet).
    public var lastReadSeq: UInt64
    /// Messages after the marker, counted up to `ChatQueries.maxUnreadCount`.
    public var unreadCount: Int
}

/// A channel's stored state in the `channels` projection (members are kept apart).
struct ChannelState: Codable, Equatable {
    var id: String
    var name: String
    var agent: Bool
    var createdBy: String
    var createdAt: String
    var deleted: Bool = false
}
