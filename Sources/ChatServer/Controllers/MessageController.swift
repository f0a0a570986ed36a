import Chat
import Hummingbird
import JSONCoding

/// `/v1/channels/{channelId}/messages`: post (with `Idempotency-Key`), history, edit, delete.
struct MessageController {
    let chat: ChatService

    struct EditBody: Decodable {
        var text: String
    }

    struct MessageResponse: JSONWritable {
        var message: Message

        func write(to json: inout JSONText) {
            json.object { $0.field("message", message) }
        }
    }

    struct PageResponse: JSONWritable {
        var messages: [RenderedMessage]
        var nextCursor: String?

        func write(to json: inout JSONText) {
            json.object { object in
                object.field("messages", array: messages) { $1.write(to: &$0) }
                object.field("nextCursor", nextCursor, includeNull: true)
            }
        }
    }

    func addRoutes(to group: RouterGroup<ChatRequestContext>) {
        group.post("channels/{channelId}/messages", use: post)
        group.get("channels/{channelId}/messages", use: history)
        group.patch("channels/{channelId}/messages/{messageId}", use: edit)
        group.delete("channels/{channelId}/messages/{messageId}", use: delete)
    }

    @Sendable func post(_ request: Request, context: ChatRequestContext) async throws -> JSONResponse<
        MessageResponse
    > {
        let user = try context.requireUser()
        let (body, raw) = try await JSONBody.object(
            from: request, context: context, allowedFields: ["text", "metadata"])
        let posted = try await chat.postMessage(
            try body.string("text"), metadata: try body.optionalObject("metadata").map(JSONValue.object),
            to: try context.parameters.require("channelId"),
            by: user, idempotencyKey: request.headers[.idempotencyKey], requestBody: raw)
        return JSONResponse(
            status: posted.created ? .created : .ok, body: MessageResponse(message: posted.message))
    }

    @Sendable func history(_ request: Request, context: ChatRequestContext) async throws -> JSONResponse<
        PageResponse
    > {
        let user = try context.requireUser()
        var query = HistoryQuery()
        if let limit = try request.integerParameter("limit") {
            guard limit >= 1, limit <= 100 else {
                throw APIError.invalidRequest("limit must be 1 to 100", details: ["parameter": "limit"])
            }
            query.limit = Int(limit)
        }
        query.before = try request.integerParameter("before")
        query.after = try request.integerParameter("after")
        query.cursor = request.uri.queryParameters["cursor"].map(String.init)
        let page = try chat.history(of: try context.parameters.require("channelId"), for: user, query: query)
        return JSONResponse(body: PageResponse(messages: page.messages, nextCursor: page.nextCursor))
    }

    @Sendable func edit(_ request: Request, context: ChatRequestContext) async throws -> JSONResponse<
        MessageResponse
    > {
        let user = try context.requireUser()
        let (body, _) = try await JSONBody.decode(
            EditBody.self, from: request, context: context, allowedFields: ["text"])
        let message = try await chat.editMessage(
            try context.parameters.require("messageId"), in: try context.parameters.require("channelId"),
            text: body.text,
            by: user)
        return JSONResponse(body: MessageResponse(message: message))
    }

    @Sendable func delete(_ request: Request, context: ChatRequestContext) async throws -> JSONResponse<
        MessageResponse
    > {
        let message = try await chat.deleteMessage(
            try context.parameters.require("messageId"), in: try context.parameters.require("channelId"),
            by: try context.requireUser())
        return JSONResponse(body: MessageResponse(message: message))
    }
}
