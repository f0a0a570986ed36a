import Chat
import ChatlogTestSupport
import Consumers
import EventLog
import Foundation
import HTTPTypes
import Testing

/// Three minutes: its JetStream cases wait for one of the test cluster's few slots, and that
/// wait counts against the limit.
@Suite(.timeLimit(.minutes(3))) struct ConversationAPITests {
    @Test(arguments: TestBackend.allCases) func synchronousChatReturnsTheMessageAndTheAgentsReply(
        on backend: TestBackend
    ) async throws {
        try await TestServer.run(on: backend, agent: true) { server in
            let first = try await server.send(
                .post, "/v1/users/alice/chat", as: "alice", json: ["message": "hello agent"])
            #expect(first.status == .ok, "\(first.text)")
            let conversation = try #require(first.body["conversationId"] as? String)
            let message = try #require(first["message"])
            let reply = try #require(first["reply"])
            #expect(message["text"] as? String == "hello agent")
            #expect(reply["senderId"] as? String == "agent")
            #expect(reply["replyTo"] as? String == message["id"] as? String)
            #expect((reply["text"] as? String)?.contains("hello agent") == true)
            // The conversation is an ordinary agent channel in the user's list.
            let channel = try await server.send(.get, "/v1/channels/\(conversation)", as: "alice")
            #expect(channel["channel"]?["agent"] as? Bool == true)
            let second = try await server.send(
                .post, "/v1/users/alice/chat", as: "alice",
                json: ["message": "again", "conversationId": conversation])
            #expect(second.body["conversationId"] as? String == conversation)
            #expect((second["reply"]?["text"] as? String)?.contains("message 2") == true)
            // Scrapes bring the counters up to the group's totals; they never add a total twice.
            _ = try await server.send(.get, "/metrics")
            let metrics = try await server.send(.get, "/metrics").text
            func value(_ series: String) -> Double? {
                metrics.split(separator: "\n").first { $0.hasPrefix(series + " ") }
                    .flatMap { Double($0.split(separator: " ").last ?? "") }
            }
            #expect(metrics.contains("# TYPE chatlog_consumer_processed_records_total counter"))
            let processed = try #require(value("chatlog_consumer_processed_records_total{group=\"agent\"}"))
            let appended = try #require(value("chatlog_log_appended_records_total"))
            #expect(processed >= 1 && processed <= appended, "\(processed) of \(appended)")
            #expect(metrics.contains("chatlog_consumer_lag_records{group=\"agent\",stream=\"chat_events\""))
        }
    }

    @Test(arguments: TestBackend.allCases) func onlyTheTokensUserMayChatAsThemselves(on backend: TestBackend)
        async throws
    {
        try await TestServer.run(on: backend, agent: true) { server in
            expectError(
                try await server.send(.post, "/v1/users/alice/chat", as: "bob", json: ["message": "x"]),
                .forbidden, "forbidden")
            expectError(
                try await server.send(.post, "/v1/users/alice/chat", json: ["message": "x"]), .unauthorized,
                "unauthorized")
            expectError(
                try await server.send(
                    .post, "/v1/users/alice/chat", as: "alice",
                    json: ["message": "x", "conversationId": "nope"]),
                .notFound, "not_found")
        }
    }

    @Test(arguments: TestBackend.allCases) func aMissingReplyIsA504NamingTheMessage(on backend: TestBackend)
        async throws
    {
        try await TestServer.run(
            on: backend, agent: false, configure: { $0.agentReplyTimeout = .milliseconds(200) }
        ) {
            server in
            let response = expectError(
                try await server.send(
                    .post, "/v1/users/alice/chat", as: "alice", json: ["message": "anyone?"]),
                .gatewayTimeout, "agent_timeout")
            let details = try #require(
                (response.body["error"] as? [String: Any])?["details"] as? [String: String])
            let messageID = try #require(details["messageId"])
            let conversation = try #require(details["conversationId"])
            // The user's message is in the conversation; the reply lands once the agent runs.
            let page = try await server.send(.get, "/v1/channels/\(conversation)/messages", as: "alice")
            #expect((page.body["messages"] as? [[String: Any]])?.map { $0["id"] as? String } == [messageID])
        }
    }

    @Test(arguments: TestBackend.allCases) func replayingTheAgentGroupNeverAddsASecondReply(
        on backend: TestBackend
    ) async throws {
        try await TestServer.run(on: backend, agent: true) { server in
            let first = try await server.send(
                .post, "/v1/users/alice/chat", as: "alice", json: ["message": "one"])
            let conversation = try #require(first.body["conversationId"] as? String)
            _ = try await server.send(
                .post, "/v1/users/alice/chat", as: "alice",
                json: ["message": "two", "conversationId": conversation])
            // Rewind the agent to the start and let it reprocess everything.
            for shard in try server.storage.descriptor(.chatEvents).shards {
                try await server.storage.setCheckpoint(0, group: "agent", shard: shard)
            }
            let replay = Task { try await TestServer.agentRunner(server.dependencies).run() }
            defer { replay.cancel() }
            let third = try await server.send(
                .post, "/v1/users/alice/chat", as: "alice",
                json: ["message": "three", "conversationId": conversation])
            #expect(third.status == .ok)
            replay.cancel()
            try await replay.value
            let records = try await server.storage.channelRecords(
                stream: .chatEvents, channelID: conversation, after: 0, limit: 100)
            let replies = records.filter { $0.actor == "agent" && $0.type == "message.created" }
            #expect(replies.count == 3)
            #expect(Set(replies.map(\.causationID)).count == 3)
        }
    }
}
