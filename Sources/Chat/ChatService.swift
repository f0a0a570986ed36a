import Crypto
import EventLog
import Foundation
import JSONCoding

/// The chat domain's operations. Every change is one record appended to `chat_events`, which
/// the log admits by the chat rules (`ChatRules`) against the state it follows; every read
/// comes from the projection.
public struct ChatService: Sendable {
    public let log: any LogStorage
    public let configuration: ChatConfiguration

    public init(log: any LogStorage, configuration: ChatConfiguration = ChatConfiguration()) {
        self.log = log
        self.configuration = configuration
    }

    // MARK: Channels

    public func createChannel(by user: String, name: String, members: [String], agent: Bool) async throws
        -> Channel
    {
        let name = try validName(name)
        guard members.count <= ChatFields.maxInitialMembers else {
            throw ChatError.invalidRequest(
                "a channel is created with at most \(ChatFields.maxInitialMembers) members",
                details: ["field": "members"])
        }
        for member in members { try Self.validateUserID(member, field: "members") }
        var everyone = [user]
        for member in members where !everyone.contains(member) { everyone.append(member) }
        let channelID = UUID().uuidString.lowercased()
        let payload = ChannelCreatedPayload(name: name, members: everyone, agent: agent)
        _ = try await append(channelID, ChatRecordType.channelCreated, by: user, payload: payload)
        return try channel(channelID, for: user)
    }

    public func channels(of user: String) throws -> [Channel] {
        try log.readProjections { store in
            let queries = ChatQueries(store: store)
            return try queries.channelIDs(of: user).compactMap { try queries.channel($0) }.map({
                try queries.view($0, for: user)
            })
            .sorted { ($0.createdAt, $0.id) < ($1.createdAt, $1.id) }
        }
    }

    public func channel(_ channelID: String, for user: String) throws -> Channel {
        try log.readProjections { store in
            let queries = ChatQueries(store: store)
            return try queries.view(try queries.channel(channelID, visibleTo: user), for: user)
        }
    }

    /// Moves the user's read marker in a channel forward to `seq` (at most the channel's head);
    /// returns where it stands, which is `seq` or further. A marker already there appends
    /// nothing.
    public func markRead(_ channelID: String, through seq: UInt64, by user: String) async throws -> UInt64 {
        let current = try log.readProjections { store in
            let queries = ChatQueries(store: store)
            _ = try queries.channel(channelID, visibleTo: user)
            return try queries.readMarker(channelID, user: user)
        }
        let head = try await log.channelHead(stream: .chatEvents, channelID: channelID)
        guard seq <= head else {
            throw ChatError.invalidRequest(
                "seq \(seq) is past the channel's head \(head)", details: ["field": "seq"])
        }
        guard seq > current else { return current }
        let request = AppendRequest(
            stream: .chatEvents, partitionKey: channelID, type: ChatRecordType.channelRead, actor: user,
            payload: try ChatTables.encode(ReadPayload(userId: user, seq: seq)))
        do {
            _ = try await log.append(request)
            return seq
        } catch ChatError.conflict {
            // Another session of the user moved it at the same time, as far or further.
            return try log.readProjections { try ChatQueries(store: $0).readMarker(channelID, user: user) }
        }
    }

    /// Throws `notFound` unless the channel exists and the user is a member.
    public func requireMember(_ channelID: String, user: String) throws {
        try log.readProjections { store in
            _ = try ChatQueries(store: store).channel(channelID, visibleTo: user)
        }
    }

    public func renameChannel(_ channelID: String, to name: String, by user: String) async throws -> Channel {
        let name = try validName(name)
        _ = try await append(
            channelID, ChatRecordType.channelRenamed, by: user, payload: ChannelRenamedPayload(name: name))
        return try channel(channelID, for: user)
    }

    /// Deletes a channel; only its creator may. Answers with the channel as it was.
    public func deleteChannel(_ channelID: String, by user: String) async throws -> Channel {
        let before = try channel(channelID, for: user)
        _ = try await append(channelID, ChatRecordType.channelDeleted, by: user, payload: EmptyPayload())
        return before
    }

    public func addMember(_ member: String, to channelID: String, by user: String) async throws -> Channel {
        try Self.validateUserID(member, field: "userId")
        _ = try await append(
            channelID, ChatRecordType.memberAdded, by: user, payload: MemberPayload(userId: member))
        return try channel(channelID, for: user)
    }

    /// Removes a member: anyone may leave; only the creator may remove others.
    public func removeMember(_ member: String, from channelID: String, by user: String) async throws
        -> Channel
    {
        let before = try channel(channelID, for: user)
        _ = try await append(
            channelID, ChatRecordType.memberRemoved, by: user, payload: MemberPayload(userId: member))
        if member == user {
            var left = before
            left.members.removeAll { $0 == member }
            return left
        }
        return try channel(channelID, for: user)
    }

    // MARK: Messages

    /// Posts a message. A repeated `idempotencyKey` (per user and channel) returns the first
    /// message; the same key with another `requestBody` is a conflict.
    public func postMessage(
        _ text: String, metadata: JSONValue?, to channelID: String, by user: String,
        idempotencyKey: String? = nil,
        requestBody: [UInt8] = [], replyTo: String? = nil
    ) async throws -> PostedMessage {
        try validText(text)
        let hash = idempotencyKey == nil ? nil : Self.hex(SHA256.hash(data: requestBody))
        if let idempotencyKey {
            guard (1...255).contains(idempotencyKey.utf8.count), !idempotencyKey.utf8.contains(0) else {
                throw ChatError.invalidRequest(
                    "Idempotency-Key must have 1 to 255 bytes", details: ["header": "Idempotency-Key"])
            }
        }
        let payload = MessageCreatedPayload(
            text: text, metadata: metadata, requestHash: hash, replyTo: replyTo)
        let result = try await log.append(
            .channel(
                channelID, type: ChatRecordType.messageCreated, actor: user, stream: .chatEvents,
                idempotencyKey: idempotencyKey.map { "message:\(user):\(channelID):\($0)" },
                idempotencyTTL: configuration.idempotencyKeyLifetime, payload: payload.json))
        guard result.isDuplicate else {
            // What the projection just stored: the committed record, with the payload it holds.
            return PostedMessage(message: Message(created: result.record, payload: payload), created: true)
        }
        let original = try MessageCreatedPayload(json: result.record.payload)
        guard original.requestHash == hash else {
            throw ChatError.conflict("Idempotency-Key was already used with a different request")
        }
        let message = try log.readProjections {
            try ChatQueries(store: $0).message(result.record.id.description)
        }
        guard let message else { throw ChatError.notFound("message \(result.record.id) not found") }
        return PostedMessage(message: message, created: !result.isDuplicate)
    }

    public func editMessage(_ messageID: String, in channelID: String, text: String, by user: String)
        async throws -> Message
    {
        try validText(text)
        _ = try await append(
            channelID, ChatRecordType.messageEdited, by: user,
            payload: MessageEditedPayload(messageId: messageID, text: text))
        return try message(messageID, in: channelID, for: user)
    }

    /// Deletes a message; deleting it again answers the same and appends nothing.
    public func deleteMessage(_ messageID: String, in channelID: String, by user: String) async throws
        -> Message
    {
        let current = try message(messageID, in: channelID, for: user)
        if current.deleted == true {
            guard current.senderId == user else {
                throw ChatError.forbidden("only the sender may delete a message")
            }
            return current
        }
        _ = try await append(
            channelID, ChatRecordType.messageDeleted, by: user,
            payload: MessageDeletedPayload(messageId: messageID))
        return try message(messageID, in: channelID, for: user)
    }

    public func message(_ messageID: String, in channelID: String, for user: String) throws -> Message {
        try log.readProjections { store in
            let queries = ChatQueries(store: store)
            _ = try queries.channel(channelID, visibleTo: user)
            guard let message = try queries.message(messageID), message.channelId == channelID else {
                throw ChatError.notFound("message \(messageID) not found")
            }
            return message
        }
    }

    /// A page of a channel's history, each message as the JSON the projection keeps: the API
    /// sends those bytes as they are, without decoding and re-encoding fifty messages a request.
    public func history(of channelID: String, for user: String, query: HistoryQuery) throws -> MessagePage {
        guard (1...100).contains(query.limit) else {
            throw ChatError.invalidRequest("limit must be 1 to 100", details: ["parameter": "limit"])
        }
        var ascending = query.after != nil
        var lower = query.after ?? 0
        var upper = query.before ?? .max
        if let token = query.cursor {
            guard query.before == nil, query.after == nil else {
                throw ChatError.invalidRequest(
                    "cursor cannot be combined with before or after", details: ["parameter": "cursor"])
            }
            let cursor = try HistoryCursor(token: token)
            ascending = cursor.ascending
            if ascending {
                lower = cursor.from
                upper = cursor.bound ?? .max
            } else {
                upper = cursor.from
                lower = cursor.bound ?? 0
            }
        }
        return try log.readProjections { store in
            let queries = ChatQueries(store: store)
            _ = try queries.channel(channelID, visibleTo: user)
            guard lower < .max, upper > 0, lower + 1 <= upper - 1 else {
                return MessagePage(messages: [], nextCursor: nil)
            }
            var messages = try queries.storedMessages(
                channelID, range: (lower + 1)...(upper - 1), ascending: ascending, limit: query.limit + 1)
            let hasMore = messages.count > query.limit
            messages = Array(messages.prefix(query.limit))
            if !ascending { messages.reverse() }
            var next: String?
            if hasMore {
                next =
                    ascending
                    ? HistoryCursor(
                        ascending: true, from: messages.last!.seq, bound: upper == .max ? nil : upper
                    ).token
                    : HistoryCursor(
                        ascending: false, from: messages.first!.seq, bound: lower == 0 ? nil : lower
                    ).token
            }
            return MessagePage(
                messages: try messages.map { RenderedMessage(json: try Message.json(stored: $0.value)) },
                nextCursor: next)
        }
    }

    // MARK: Agent

    /// Posts `text` to the user's conversation with the agent (created on first use: an
    /// ordinary channel with the agent enabled) and returns the conversation id and the message.
    public func converse(_ text: String, conversationID: String?, by user: String) async throws -> (
        String, Message
    ) {
        let channelID: String
        if let conversationID {
            let channel = try channel(conversationID, for: user)
            guard channel.agent else {
                throw ChatError.invalidRequest("channel \(conversationID) does not have the agent enabled")
            }
            channelID = channel.id
        } else {
            channelID = try await createChannel(by: user, name: "Conversation", members: [], agent: true).id
        }
        let posted = try await postMessage(text, metadata: nil, to: channelID, by: user)
        return (channelID, posted.message)
    }

    /// The agent's reply to the message `record` created: once per message, whatever happens.
    func appendAgentReply(_ text: String, answering record: Record) async throws {
        guard let channelID = record.channelID else { return }
        let payload = MessageCreatedPayload(
            text: text, metadata: nil, requestHash: nil, replyTo: record.id.description)
        _ = try await log.append(
            .channel(
                channelID, type: ChatRecordType.messageCreated, actor: AgentHandler.actor,
                stream: .chatEvents,
                idempotencyKey: "agent-reply:\(record.id)", causationID: record.id,
                payload: payload.json))
    }

    /// Records that the agent could not answer the message `record` created.
    func appendAgentFailure(answering record: Record, error: String) async throws {
        guard let channelID = record.channelID else { return }
        struct Failed: Encodable {
            var messageId: String
            var error: String
        }
        _ = try await log.append(
            .channel(
                channelID, type: AgentHandler.failedType, actor: AgentHandler.actor, stream: .chatEvents,
                idempotencyKey: "agent-failed:\(record.id)", causationID: record.id,
                payload: try ChatTables.encode(Failed(messageId: record.id.description, error: error))))
    }

    /// The agent's reply to a message, once it exists.
    public func reply(to messageID: String, in channelID: String) throws -> Message? {
        try log.readProjections { store in
            guard let key = try store.get(ChatTables.replies, key: Array(messageID.utf8)),
                let bytes = try store.get(ChatTables.messages, key: key)
            else { return nil }
            let reply = try Message(stored: bytes)
            return reply.channelId == channelID ? reply : nil
        }
    }

    /// Whether the agent gave up on a message.
    public func agentFailed(on messageID: String) throws -> Bool {
        try log.readProjections { try $0.get(ChatTables.agentFailures, key: Array(messageID.utf8)) != nil }
    }

    // MARK: Helpers

    private func append<P: Encodable>(_ channelID: String, _ type: String, by user: String, payload: P)
        async throws -> Record
    {
        let request = AppendRequest.channel(
            channelID, type: type, actor: user, stream: .chatEvents, payload: try ChatTables.encode(payload))
        return try await log.append(request).record
    }

    /// A valid channel name, without its leading and trailing white space.
    private func validName(_ name: String) throws -> String {
        try ChatFields.check(name, ChatFields.channelName, field: "name")
        return name.trimmingCharacters(in: .whitespaces)
    }

    private func validText(_ text: String) throws {
        try ChatFields.check(text, ChatFields.messageText, field: "text")
    }

    private static func hex(_ digest: some Sequence<UInt8>) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        for byte in digest {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0xF)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Ids the server acts as itself: no user may have one.
    public static let reservedUserIDs: Set<String> = [AgentHandler.actor]

    /// User ids: `ChatFields.userID`, and none of the reserved ones.
    public static func validateUserID(_ id: String, field: String) throws {
        try ChatFields.check(id, ChatFields.userID, field: field)
        guard !reservedUserIDs.contains(id) else {
            throw ChatError.invalidRequest(
                "\(field): the user id '\(id)' is reserved for the server", details: ["field": field])
        }
    }
}
