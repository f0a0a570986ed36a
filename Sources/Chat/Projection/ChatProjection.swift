import EventLog
import Foundation

/// Folds `chat_events` into channels, memberships and per-channel message history, inside
/// each append's transaction. Records that no longer fit (e.g. an edit of a message that was
/// never seen) are skipped, never fatal: a projection must always be rebuildable from the log.
public struct ChatProjection: Projection {
    public init() {}

    public var tables: [String] { ChatTables.all }

    public func admit(_ request: AppendRequest, given store: any ProjectionStore) throws {
        guard request.stream == .chatEvents else { return }
        try ChatRules(queries: ChatQueries(store: store)).admit(request)
    }

    public func apply(_ record: Record, to store: any ProjectionStore) throws {
        func decode<T: Decodable>(_ type: T.Type) throws -> T {
            try JSONDecoder().decode(type, from: Data(record.payload))
        }
        if record.stream == .chatEvents, record.type == ChatRecordType.channelRead {
            let read = try decode(ReadPayload.self)
            let key = ChatTables.pair(record.partitionKey, read.userId)
            let current = try ChatQueries(store: store).readMarker(record.partitionKey, user: read.userId)
            try store.put(ChatTables.readMarkers, key: key, value: BigEndian.bytes(max(current, read.seq)))
            return
        }
        guard record.stream == .chatEvents, let channelID = record.channelID else { return }
        switch record.type {
        case ChatRecordType.channelCreated:
            let created = try decode(ChannelCreatedPayload.self)
            let state = ChannelState(
                id: channelID, name: created.name, agent: created.agent, createdBy: record.actor,
                createdAt: record.createdAt.rfc3339)
            try store.put(
                ChatTables.channels, key: Array(channelID.utf8), value: state.binary)
            for member in created.members { try addMember(member, to: channelID, in: store) }
        case ChatRecordType.channelRenamed:
            let renamed = try decode(ChannelRenamedPayload.self)
            try updateChannel(channelID, in: store) { $0.name = renamed.name }
        case ChatRecordType.channelDeleted:
            try updateChannel(channelID, in: store) { $0.deleted = true }
            for member in try ChatQueries(store: store).memberIDs(channelID) {
                try removeMember(member, from: channelID, in: store)
            }
        case ChatRecordType.memberAdded:
            try addMember(
                try decode(MemberPayload.self).userId, to: channelID, in: store)
        case ChatRecordType.memberRemoved:
            try removeMember(
                try decode(MemberPayload.self).userId, from: channelID, in: store)
        case ChatRecordType.messageCreated:
            let message = try Message(created: record)
            let seq = message.seq
            try store.put(
                ChatTables.messages, key: ChatTables.message(channelID: channelID, seq: seq),
                value: message.stored)
            try store.put(
                ChatTables.messageIDs, key: Array(message.id.utf8),
                value: ChatTables.message(channelID: channelID, seq: seq))
            if let replyTo = message.replyTo {
                try store.put(
                    ChatTables.replies, key: Array(replyTo.utf8),
                    value: ChatTables.message(channelID: channelID, seq: seq))
            }
        case ChatRecordType.messageEdited:
            let edited = try decode(MessageEditedPayload.self)
            try updateMessage(edited.messageId, in: store) { message in
                message.text = edited.text
                message.editedAt = record.createdAt.rfc3339
            }
        case ChatRecordType.messageDeleted:
            let deleted = try decode(MessageDeletedPayload.self)
            try updateMessage(deleted.messageId, in: store) { message in
                message.text = nil
                message.metadata = nil
                message.deleted = true
            }
        case AgentHandler.failedType:
            let failed = try decode(MessageDeletedPayload.self)
            try store.put(ChatTables.agentFailures, key: Array(failed.messageId.utf8), value: [])
        default:
            return
        }
    }

    private func addMember(_ userID: String, to channelID: String, in store: any ProjectionStore) throws {
        try store.put(ChatTables.members, key: ChatTables.pair(channelID, userID), value: [])
        try store.put(ChatTables.userChannels, key: ChatTables.pair(userID, channelID), value: [])
    }

    private func removeMember(_ userID: String, from channelID: String, in store: any ProjectionStore) throws
    {
        try store.delete(ChatTables.members, key: ChatTables.pair(channelID, userID))
        try store.delete(ChatTables.userChannels, key: ChatTables.pair(userID, channelID))
    }

    private func updateChannel(
        _ channelID: String, in store: any ProjectionStore, _ change: (inout ChannelState) -> Void
    ) throws {
        let key = Array(channelID.utf8)
        guard let bytes = try store.get(ChatTables.channels, key: key) else { return }
        var state = try ChannelState(binary: bytes)
        change(&state)
        try store.put(ChatTables.channels, key: key, value: state.binary)
    }

    private func updateMessage(
        _ messageID: String, in store: any ProjectionStore, _ change: (inout Message) -> Void
    ) throws {
        guard let key = try store.get(ChatTables.messageIDs, key: Array(messageID.utf8)),
            let bytes = try store.get(ChatTables.messages, key: key)
        else { return }
        var message = try Message(stored: bytes)
        change(&message)
        try store.put(ChatTables.messages, key: key, value: message.stored)
    }
}
