import JSONCoding

/// A message as clients see it.
public struct Message: Codable, Equatable, Sendable {
    /// The id of the record that created the message.
    public var id: String
    public var channelId: String
    /// The channel sequence number of the record that created it.
    public var seq: UInt64
    public var senderId: String
    /// Absent once the message is deleted.
    public var text: String?
    public var createdAt: String
    public var metadata: JSONValue?
    public var editedAt: String?
    public var deleted: Bool?
    /// For an agent reply: the id of the message it answers.
    public var replyTo: String?
}

/// What `postMessage` did.
public struct PostedMessage: Sendable, Equatable {
    public var message: Message
    /// False when an idempotency key returned an earlier message.
    public var created: Bool
}

/// One page of a channel's history.
public struct MessagePage: Sendable, Equatable {
    /// Oldest first.
    public var messages: [RenderedMessage]
    /// Continues in the query's direction; nil at the end.
    public var nextCursor: String?
}

/// A message as the projection stores it: its API JSON, sent as it is.
public struct RenderedMessage: Sendable, Equatable, JSONWritable {
    /// The message's JSON, exactly as `Message` renders it.
    public var json: [UInt8]

    package func write(to json: inout JSONText) {
        json.raw(bytes: self.json)
    }
}
