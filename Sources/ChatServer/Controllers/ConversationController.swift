import Chat
import EventLog
import Hummingbird
import JSONCoding

/// `POST /v1/users/{userId}/chat`: synchronous chat with the agent over the same log: the
/// user's message is appended, then the request waits (bounded) for the agent's reply record.
struct ConversationController {
    let chat: ChatService
    let storage: any LogStorage
    let replyTimeout: Duration

    struct Body: Decodable {
        var message: String
        var conversationId: String?
    }

    struct ConversationResponse: JSONWritable {
        var conversationId: String
        var message: Message
        var reply: Message

        func write(to json: inout JSONText) {
            json.object { object in
                object.field("conversationId", conversationId)
                object.field("message", message)
                object.field("reply", reply)
            }
        }
    }

    func addRoutes(to group: RouterGroup<ChatRequestContext>) {
        group.post("users/{userId}/chat", use: converse)
    }

    @Sendable func converse(_ request: Request, context: ChatRequestContext) async throws -> JSONResponse<
        ConversationResponse
    > {
        let user = try context.requireUser()
        guard try context.parameters.require("userId") == user else {
            throw APIError.forbidden("you may only chat as yourself")
        }
        let (body, _) = try await JSONBody.decode(
            Body.self, from: request, context: context, allowedFields: ["message", "conversationId"])
        let (conversationID, message) = try await chat.converse(
            body.message, conversationID: body.conversationId, by: user)
        let reply = try await waitForReply(to: message, in: conversationID)
        return JSONResponse(
            body: ConversationResponse(conversationId: conversationID, message: message, reply: reply))
    }

    /// Waits for the reply record on the channel's shard, woken by commits rather than polling.
    private func waitForReply(to message: Message, in channelID: String) async throws -> Message {
        let descriptor = try storage.descriptor(.chatEvents)
        let shard = ShardKey(
            stream: .chatEvents, shard: Partitioner.shard(for: channelID, shardCount: descriptor.shardCount))
        let deadline = ContinuousClock.now + replyTimeout
        while true {
            let head = try await storage.shardInfo(shard).head
            if let reply = try chat.reply(to: message.id, in: channelID) { return reply }
            let failed = try chat.agentFailed(on: message.id)
            guard !failed, ContinuousClock.now < deadline else {
                throw APIError(
                    .gatewayTimeout, code: "agent_timeout",
                    message: failed
                        ? "the agent could not answer; the channel has an agent.failed record"
                        : "the agent did not reply in time; the reply will still land in the conversation",
                    details: ["messageId": message.id, "conversationId": channelID])
            }
            try await storage.waitForRecords(shard, after: head, interrupt: nil, limit: deadline - .now)
        }
    }
}
