import ChatlogTestSupport
import Foundation
import Testing

@testable import Chat
@testable import EventLog

/// The chat rules decide every append on their own: records written straight to the log, past
/// ChatService's friendlier checks, are refused just the same and leave nothing behind.
@Suite(.timeLimit(.minutes(1))) struct ChatRulesTests {
    private func record<P: Encodable>(_ type: String, _ channelID: String, by actor: String, _ payload: P)
        throws
        -> AppendRequest
    {
        .channel(
            channelID, type: type, actor: actor, stream: .chatEvents, payload: try ChatTables.encode(payload))
    }

    @Test func eachRecordTypeIsRefusedToWhoeverMayNotWriteIt() async throws {
        try await withChat { chat, log in
            let channel = try await chat.createChannel(by: "alice", name: "x", members: ["bob"], agent: true)
            let hello = try await chat.postMessage("hello", metadata: nil, to: channel.id, by: "alice")
            let id = channel.id
            let refusals: [(AppendRequest, ChatError)] = [
                (
                    try record(ChatRecordType.messageCreated, id, by: "mallory", EmptyPayload()),
                    .notFound("channel \(id) not found")
                ),
                (
                    try record(
                        ChatRecordType.channelRenamed, id, by: "mallory", ChannelRenamedPayload(name: "y")),
                    .notFound("channel \(id) not found")
                ),
                (
                    try record(ChatRecordType.channelDeleted, id, by: "bob", EmptyPayload()),
                    .forbidden("only the channel's creator may delete it")
                ),
                (
                    try record(ChatRecordType.memberAdded, id, by: "bob", MemberPayload(userId: "alice")),
                    .conflict("alice is already a member of channel \(id)")
                ),
                (
                    try record(ChatRecordType.memberRemoved, id, by: "bob", MemberPayload(userId: "alice")),
                    .forbidden("only the channel's creator may remove other members")
                ),
                (
                    try record(ChatRecordType.memberRemoved, id, by: "alice", MemberPayload(userId: "carol")),
                    .notFound("carol is not a member of channel \(id)")
                ),
                (
                    try record(
                        ChatRecordType.messageEdited, id, by: "bob",
                        MessageEditedPayload(messageId: hello.message.id, text: "mine now")),
                    .forbidden("only the sender may change a message")
                ),
                (
                    try record(ChatRecordType.channelCreated, id, by: "mallory", EmptyPayload()),
                    .conflict("channel \(id) already exists")
                ),
            ]
            let head = try await log.channelHead(stream: .chatEvents, channelID: id)
            for (request, error) in refusals {
                await #expect(throws: error, "\(request.type) by \(request.actor)") {
                    _ = try await log.append(request)
                }
            }
            #expect(try await log.channelHead(stream: .chatEvents, channelID: id) == head)
            // The agent is nobody's member, yet answers in the channel; once it is gone, nowhere.
            let reply = try record(ChatRecordType.messageCreated, id, by: AgentHandler.actor, EmptyPayload())
            _ = try await chat.deleteChannel(id, by: "alice")
            await #expect(throws: ChatError.notFound("channel \(id) not found")) {
                _ = try await log.append(reply)
            }
        }
    }

    @Test func theAgentRepliesInAChannelItIsNoMemberOf() async throws {
        try await withChat { chat, log in
            let channel = try await chat.createChannel(by: "alice", name: "x", members: [], agent: true)
            let posted = try await chat.postMessage("hi", metadata: nil, to: channel.id, by: "alice")
            let records = try await log.channelRecords(
                stream: .chatEvents, channelID: channel.id, after: 1, limit: 1)
            try await chat.appendAgentReply("hello", answering: try #require(records.first))
            #expect(try chat.reply(to: posted.message.id, in: channel.id)?.text == "hello")
        }
    }
}
