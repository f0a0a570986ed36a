import JSONCoding

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
    /// A member's read marker moved: `{"userId", "seq"}`, partitioned by the channel but
    /// outside its sequence (no `channelSeq`): only the reader's own sessions hear of it.
    public static let channelRead = "channel.read"
}

package struct ReadPayload: Codable {
    package var userId: String
    package var seq: UInt64
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

/// A stored payload that is not the shape its record type says: the log holds something chat
/// did not write.
struct MalformedPayload: Error, CustomStringConvertible {
    var description: String
}

/// Written and read by hand (`JSONText`, `JSONParser`): every message is decoded by the
/// projection, the delivery fan-out and the agent, where `Codable` cost more than the rest.
struct MessageCreatedPayload: Equatable {
    var text: String
    var metadata: JSONValue?
    /// A digest of the request body, so a reused idempotency key with another body is a conflict.
    var requestHash: String?
    var replyTo: String?

    init(text: String, metadata: JSONValue?, requestHash: String?, replyTo: String?) {
        self.text = text
        self.metadata = metadata
        self.requestHash = requestHash
        self.replyTo = replyTo
    }

    init(json bytes: [UInt8]) throws {
        guard case .object(let members) = try JSONParser.parse(bytes),
            case .string(let text) = members["text"]
        else { throw MalformedPayload(description: "message.created payload has no text") }
        func optionalString(_ name: String) throws -> String? {
            switch members[name] {
            case nil, .null: return nil
            case .string(let value): return value
            default: throw MalformedPayload(description: "message.created payload: \(name) is not a string")
            }
        }
        let metadata = members["metadata"].flatMap { $0 == .null ? nil : $0 }
        self.init(
            text: text, metadata: metadata, requestHash: try optionalString("requestHash"),
            replyTo: try optionalString("replyTo"))
    }

    /// Keys sorted, as `JSONEncoder` with `.sortedKeys` wrote them before.
    var json: [UInt8] {
        var json = JSONText(capacity: 64 + text.utf8.count)
        json.object { object in
            if let metadata { object.field("metadata", metadata) }
            object.field("replyTo", replyTo)
            object.field("requestHash", requestHash)
            object.field("text", text)
        }
        return json.bytes
    }
}

struct MessageEditedPayload: Codable {
    var messageId: String
    var text: String
}

struct MessageDeletedPayload: Codable {
    var messageId: String
}

struct EmptyPayload: Codable {}
