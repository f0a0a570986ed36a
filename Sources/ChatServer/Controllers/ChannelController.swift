import Chat
import Hummingbird
import JSONCoding

/// `/v1/channels`: create, list mine, get, rename, delete, add and remove members.
struct ChannelController {
    let chat: ChatService

    struct CreateBody: Decodable {
        var name: String
        var members: [String]?
        var agent: Bool?
    }

    struct RenameBody: Decodable {
        var name: String
    }

    struct MemberBody: Decodable {
        var userId: String
    }

    struct ReadBody: Decodable {
        var seq: UInt64
    }

    struct ReadResponse: JSONWritable {
        var channelId: String
        var lastReadSeq: UInt64

        func write(to json: inout JSONText) {
            json.object { object in
                object.field("channelId", channelId)
                object.field("lastReadSeq", lastReadSeq)
            }
        }
    }

    struct ChannelResponse: JSONWritable {
        var channel: Channel

        func write(to json: inout JSONText) {
            json.object { $0.field("channel", channel) }
        }
    }

    struct ChannelsResponse: JSONWritable {
        var channels: [Channel]

        func write(to json: inout JSONText) {
            json.object { $0.field("channels", array: channels) { $1.write(to: &$0) } }
        }
    }

    func addRoutes(to group: RouterGroup<ChatRequestContext>) {
        group.post("channels", use: create)
        group.get("channels", use: list)
        group.get("channels/{channelId}", use: get)
        group.patch("channels/{channelId}", use: rename)
        group.delete("channels/{channelId}", use: delete)
        group.post("channels/{channelId}/members", use: addMember)
        group.delete("channels/{channelId}/members/{userId}", use: removeMember)
        group.post("channels/{channelId}/read", use: markRead)
    }

    @Sendable func create(_ request: Request, context: ChatRequestContext) async throws -> JSONResponse<
        ChannelResponse
    > {
        let user = try context.requireUser()
        let (body, _) = try await JSONBody.decode(
            CreateBody.self, from: request, context: context, allowedFields: ["name", "members", "agent"])
        let channel = try await chat.createChannel(
            by: user, name: body.name, members: body.members ?? [], agent: body.agent ?? false)
        return JSONResponse(status: .created, body: ChannelResponse(channel: channel))
    }

    @Sendable func list(_ request: Request, context: ChatRequestContext) async throws -> JSONResponse<
        ChannelsResponse
    > {
        JSONResponse(body: ChannelsResponse(channels: try chat.channels(of: try context.requireUser())))
    }

    @Sendable func get(_ request: Request, context: ChatRequestContext) async throws -> JSONResponse<
        ChannelResponse
    > {
        let channel = try chat.channel(
            try context.parameters.require("channelId"), for: try context.requireUser())
        return JSONResponse(body: ChannelResponse(channel: channel))
    }

    @Sendable func rename(_ request: Request, context: ChatRequestContext) async throws -> JSONResponse<
        ChannelResponse
    > {
        let user = try context.requireUser()
        let (body, _) = try await JSONBody.decode(
            RenameBody.self, from: request, context: context, allowedFields: ["name"])
        let channel = try await chat.renameChannel(
            try context.parameters.require("channelId"), to: body.name, by: user)
        return JSONResponse(body: ChannelResponse(channel: channel))
    }

    @Sendable func delete(_ request: Request, context: ChatRequestContext) async throws -> JSONResponse<
        ChannelResponse
    > {
        let channel = try await chat.deleteChannel(
            try context.parameters.require("channelId"), by: try context.requireUser())
        return JSONResponse(body: ChannelResponse(channel: channel))
    }

    @Sendable func addMember(_ request: Request, context: ChatRequestContext) async throws -> JSONResponse<
        ChannelResponse
    > {
        let user = try context.requireUser()
        let (body, _) = try await JSONBody.decode(
            MemberBody.self, from: request, context: context, allowedFields: ["userId"])
        let channel = try await chat.addMember(
            body.userId, to: try context.parameters.require("channelId"), by: user)
        return JSONResponse(body: ChannelResponse(channel: channel))
    }

    /// `POST /v1/channels/{channelId}/read {"seq"}`: moves the caller's read marker forward.
    @Sendable func markRead(_ request: Request, context: ChatRequestContext) async throws -> JSONResponse<
        ReadResponse
    > {
        let user = try context.requireUser()
        let (body, _) = try await JSONBody.decode(
            ReadBody.self, from: request, context: context, allowedFields: ["seq"])
        let channelID = try context.parameters.require("channelId")
        let marker = try await chat.markRead(channelID, through: body.seq, by: user)
        return JSONResponse(body: ReadResponse(channelId: channelID, lastReadSeq: marker))
    }

    @Sendable func removeMember(_ request: Request, context: ChatRequestContext) async throws -> JSONResponse<
        ChannelResponse
    > {
        let channel = try await chat.removeMember(
            try context.parameters.require("userId"), from: try context.parameters.require("channelId"),
            by: try context.requireUser())
        return JSONResponse(body: ChannelResponse(channel: channel))
    }
}
