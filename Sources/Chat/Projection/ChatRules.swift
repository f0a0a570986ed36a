import EventLog
import Foundation

/// What the chat read model allows: the decide half of the chat domain. Each rule reads the
/// state a record would follow, and refuses what its actor may not do. To a non-member a
/// channel does not exist.
struct ChatRules {
    let queries: ChatQueries

    func admit(_ request: AppendRequest) throws {
        if request.type == ChatRecordType.channelRead {
            // A member's marker only moves forward.
            let channelID = request.partitionKey
            _ = try queries.channel(channelID, visibleTo: request.actor)
            let read = try Self.decode(ReadPayload.self, request)
            guard read.userId == request.actor,
                read.seq > (try queries.readMarker(channelID, user: request.actor))
            else { throw ChatError.conflict("the read marker of channel \(channelID) is already there") }
            return
        }
        guard let channelID = request.channelID else { return }
        let actor = request.actor
        switch request.type {
        case ChatRecordType.channelCreated:
            guard try queries.store.get(ChatTables.channels, key: Array(channelID.utf8)) == nil else {
                throw ChatError.conflict("channel \(channelID) already exists")
            }
        case ChatRecordType.channelDeleted:
            let state = try queries.channel(channelID, visibleTo: actor)
            guard state.createdBy == actor else {
                throw ChatError.forbidden("only the channel's creator may delete it")
            }
        case ChatRecordType.memberAdded:
            _ = try queries.channel(channelID, visibleTo: actor)
            let member = try Self.decode(MemberPayload.self, request).userId
            guard try !queries.isMember(member, of: channelID) else {
                throw ChatError.conflict("\(member) is already a member of channel \(channelID)")
            }
        case ChatRecordType.memberRemoved:
            let state = try queries.channel(channelID, visibleTo: actor)
            let member = try Self.decode(MemberPayload.self, request).userId
            guard try queries.isMember(member, of: channelID) else {
                throw ChatError.notFound("\(member) is not a member of channel \(channelID)")
            }
            guard member == actor || state.createdBy == actor else {
                throw ChatError.forbidden("only the channel's creator may remove other members")
            }
        case ChatRecordType.messageEdited, ChatRecordType.messageDeleted:
            let messageID = try Self.decode(MessageDeletedPayload.self, request).messageId
            try ownMessage(messageID, in: channelID, of: actor)
        case ChatRecordType.messageCreated where actor == AgentHandler.actor:
            // The agent answers in any channel that still exists; it is nobody's member.
            guard try queries.channel(channelID) != nil else {
                throw ChatError.notFound("channel \(channelID) not found")
            }
        case AgentHandler.failedType:
            return
        default:
            _ = try queries.channel(channelID, visibleTo: actor)
        }
    }

    /// Throws unless the message is the user's own, in that channel, and not deleted.
    func ownMessage(_ messageID: String, in channelID: String, of user: String) throws {
        _ = try queries.channel(channelID, visibleTo: user)
        guard let message = try queries.message(messageID), message.channelId == channelID else {
            throw ChatError.notFound("message \(messageID) not found")
        }
        guard message.senderId == user else {
            throw ChatError.forbidden("only the sender may change a message")
        }
        guard message.deleted != true else { throw ChatError.conflict("message \(messageID) was deleted") }
    }

    private static func decode<T: Decodable>(_ type: T.Type, _ request: AppendRequest) throws -> T {
        do {
            return try JSONDecoder().decode(type, from: Data(request.payload))
        } catch {
            throw ChatError.invalidRequest("a \(request.type) record needs a \(type) payload")
        }
    }
}
