import EventLog
import Foundation

/// The `agent` consumer group's handler: answers user messages in channels created with
/// `agent: true`. Each reply is appended with an idempotency key derived from the message's
/// record, so a retry, a reset or a replay never adds a second reply.
public struct AgentHandler: Sendable {
    public static let actor = "agent"
    public static let failedType = "agent.failed"

    let chat: ChatService
    let responder: any Responder
    /// How many earlier messages the conversation includes.
    let historyLimit: Int

    public init(chat: ChatService, responder: any Responder, historyLimit: Int = 20) {
        self.chat = chat
        self.responder = responder
        self.historyLimit = historyLimit
    }

    /// Whether the record is a user message in an agent channel.
    func shouldAnswer(_ record: Record) throws -> Bool {
        guard record.type == ChatRecordType.messageCreated, let channelID = record.channelID,
            !record.actor.hasPrefix(Self.actor)
        else { return false }
        return try chat.log.readProjections { try ChatQueries(store: $0).channel(channelID)?.agent ?? false }
    }

    public func handle(_ record: Record) async throws {
        guard try shouldAnswer(record), let channelID = record.channelID, let seq = record.channelSeq else {
            return
        }
        let history = try chat.log.readProjections { store in
            try ChatQueries(store: store).messages(
                channelID, range: 1...seq, ascending: false, limit: historyLimit)
        }
        let conversation = history.reversed().compactMap { message -> ConversationTurn? in
            guard let text = message.text else { return nil }
            return ConversationTurn(
                role: message.senderId.hasPrefix(Self.actor) ? .assistant : .user, text: text)
        }
        let reply = try await responder.reply(to: conversation)
        try await chat.appendAgentReply(reply, answering: record)
    }

    /// After the last retry: tell the channel, so the user is not left in silence.
    public func failed(_ record: Record, error: String) async throws {
        guard try shouldAnswer(record) else { return }
        try await chat.appendAgentFailure(answering: record, error: error)
    }
}
