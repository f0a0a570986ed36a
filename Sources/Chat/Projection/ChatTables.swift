import EventLog
import Foundation

/// The chat projection's tables and their key layouts. Ids never contain a NUL byte (they are
/// validated on the way in), so NUL separates the parts of a key.
enum ChatTables {
    /// Channel id → `ChannelState` (JSON).
    static let channels = "chat.channels"
    /// Channel id, user id → nothing: the channel's members.
    static let members = "chat.members"
    /// User id, channel id → nothing: the user's channels.
    static let userChannels = "chat.user_channels"
    /// Channel id, message seq → `Message` (JSON).
    static let messages = "chat.messages"
    /// Message id → channel id, message seq.
    static let messageIDs = "chat.message_ids"

    /// Message id → the key of the agent's reply to it in `messages`.
    static let replies = "chat.replies"
    /// Message id → nothing: the agent gave up on it.
    static let agentFailures = "chat.agent_failures"

    /// channelId, NUL, userId → the member's read marker (big-endian seq).
    static let readMarkers = "chat.read_markers"
    static let all = [
        channels, members, userChannels, messages, messageIDs, replies, agentFailures, readMarkers,
    ]

    static func pair(_ first: String, _ second: String) -> [UInt8] {
        Array(first.utf8) + [0] + Array(second.utf8)
    }

    static func prefix(_ first: String) -> [UInt8] {
        Array(first.utf8) + [0]
    }

    static func message(channelID: String, seq: UInt64) -> [UInt8] {
        prefix(channelID) + withUnsafeBytes(of: seq.bigEndian) { Array($0) }
    }

    /// The second part of a `pair` key.
    static func second(of key: [UInt8]) -> String {
        guard let separator = key.firstIndex(of: 0) else { return "" }
        return String(decoding: key[(separator + 1)...], as: UTF8.self)
    }

    static func seq(ofMessageKey key: [UInt8]) -> UInt64 {
        key.suffix(8).reduce(0) { $0 << 8 | UInt64($1) }
    }

    static func encode<T: Encodable>(_ value: T) throws -> [UInt8] {
        // Sorted keys make the stored bytes a function of the value, so a rebuilt projection is
        // byte-for-byte the same as the live one.
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return Array(try encoder.encode(value))
    }

    static func decode<T: Decodable>(_ type: T.Type, _ bytes: [UInt8]) throws -> T {
        try JSONDecoder().decode(type, from: Data(bytes))
    }
}
