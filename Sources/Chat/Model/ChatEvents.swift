/// The record types chat appends to `chat_events`, with their payloads.
public enum ChatRecordType {
    public static let channelCreated = "channel.created"
    public static let channelRenamed = "channel.renamed"
    public static let channelDeleted = "channel.deleted"
    public static let memberAdded = "member.added"
    public static let memberRemoved = "member.removed"
    public static let messageCreated = "message.created"
    public static let messageEdited = "message.edited"
    public static let messageDeleted = "message.deleted"
}

struct ChannelCreatedPayload: Codable {
    var name: String
    var members: [String]
    var agent: Bool
}

struct ChannelRenamedPayload: Codable {
    var name: String
}

struct MemberPayload: Codable {
    var userId: String
}

struct MessageCreatedPayload: Codable {
    var text: String
    var metadata: JSONValue?
    /// A digest of the request body, so a reused idempotency key with another body is a conflict.
    var requestHash: String?
    var replyTo: String?
}

struct MessageEditedPayload: Codable {
    var messageId: String
    var text: String
}

struct MessageDeletedPayload: Codable {
    var messageId: String
}

struct EmptyPayload: Codable {}
