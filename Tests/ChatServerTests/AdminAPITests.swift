import Chat
import EventLog
import Foundation
import HTTPTypes
import Testing

@Suite(.timeLimit(.minutes(1))) struct AdminAPITests {
    private func key(_ server: TestServer) throws -> HTTPFields {
        let (_, secret) = try server.dependencies.apiKeys.create(name: "ops", scopes: [.admin])
        return [HTTPField.Name("X-API-Key")!: secret]
    }

    @Test func adminEndpointsTakeAPIKeysOnly() async throws {
        try await TestServer.run { server in
            expectError(try await server.send(.get, "/v1/admin/consumers"), .unauthorized, "unauthorized")
            expectError(
                try await server.send(.get, "/v1/admin/consumers", as: "alice"), .unauthorized, "unauthorized"
            )
            expectError(
                try await server.send(
                    .get, "/v1/admin/consumers", headers: [HTTPField.Name("X-API-Key")!: "clk_nope"]),
                .unauthorized, "unauthorized")
            #expect(
                try await server.send(.get, "/v1/admin/consumers", headers: try key(server)).status == .ok)
        }
    }

    @Test func theStreamsListShowsEveryShardWithItsHead() async throws {
        try await TestServer.run { server in
            let channel = try await server.createChannel(by: "alice")
            _ = try await server.post("hi", in: channel, by: "alice")
            expectError(try await server.send(.get, "/v1/admin/streams"), .unauthorized, "unauthorized")
            let response = try await server.send(.get, "/v1/admin/streams", headers: try key(server))
            let shards = try #require(response.body["shards"] as? [[String: Any]])
            #expect(shards.map { "\($0["stream"] ?? "")/\($0["shard"] ?? "")" }.contains("triggers/0"))
            let chat = shards.filter { $0["stream"] as? String == "chat_events" }
            #expect(chat.compactMap { $0["head"] as? Int }.reduce(0, +) == 2)
            #expect(chat.allSatisfy { ($0["firstSeq"] as? Int ?? 0) >= 1 && $0["records"] != nil })
        }
    }

    @Test func onlyAKeyWithTheAdminScopeAdministers() async throws {
        try await TestServer.run { server in
            let (_, secret) = try server.dependencies.apiKeys.create(name: "ingest", scopes: [.events])
            let inbox: HTTPFields = [HTTPField.Name("X-API-Key")!: secret]
            let refused = expectError(
                try await server.send(.get, "/v1/admin/consumers", headers: inbox), .forbidden, "forbidden")
            #expect((refused["error"]?["message"] as? String)?.contains("--scope admin") == true)
            expectError(
                try await server.send(
                    .post, "/v1/admin/consumers/agent/reset", json: ["latest": true], headers: inbox),
                .forbidden, "forbidden")
            expectError(
                try await server.send(.post, "/v1/admin/consumers/agent/dlq/redrive", headers: inbox),
                .forbidden, "forbidden")
            // The inbox key still does its job; an admin key is not an inbox key.
            #expect(try await server.send(.get, "/v1/inbox", headers: inbox).status == .ok)
            expectError(
                try await server.send(.get, "/v1/inbox", headers: try key(server)), .forbidden, "forbidden")
        }
    }

    @Test func resettingAGroupNobodyRunsIsNotFoundAndSavesNothing() async throws {
        try await TestServer.run { server in
            let headers = try key(server)
            expectError(
                try await server.send(
                    .post, "/v1/admin/consumers/nope/reset", json: ["toSeq": 0], headers: headers),
                .notFound, "not_found")
            expectError(
                try await server.send(.post, "/v1/admin/consumers/nope/dlq/redrive", headers: headers),
                .notFound, "not_found")
            #expect(try await server.dependencies.storage.checkpoints().allSatisfy { $0.group != "nope" })
            let listed = try await server.send(.get, "/v1/admin/consumers", headers: headers)
            #expect(!listed.text.contains("nope"))
            // A checkpoint some other tool saved is not the server's to publish either.
            try await server.dependencies.storage.setCheckpoint(
                0, group: "chosen-by-a-caller", shard: ShardKey(stream: .chatEvents, shard: 0))
            let metrics = try await server.send(.get, "/metrics")
            #expect(metrics.status == .ok)
            #expect(!metrics.text.contains("chosen-by-a-caller"))
        }
    }

    @Test func aLiveResetMakesTheRunningAgentReplayWithoutDuplicates() async throws {
        try await TestServer.run(agent: true) { server in
            let headers = try key(server)
            let first = try await server.send(
                .post, "/v1/users/alice/chat", as: "alice", json: ["message": "one"])
            let conversation = try #require(first.body["conversationId"] as? String)
            let processedBefore = server.dependencies.agentStatus.snapshot.values.reduce(0) {
                $0 + $1.processed
            }
            let dryRun = try await server.send(
                .post, "/v1/admin/consumers/agent/reset", json: ["toSeq": 0, "dryRun": true], headers: headers
            )
            #expect(dryRun.status == .ok, "\(dryRun.text)")
            #expect(dryRun.body["dryRun"] as? Bool == true)
            let reset = try await server.send(
                .post, "/v1/admin/consumers/agent/reset", json: ["toSeq": 0], headers: headers)
            #expect(reset.status == .ok)
            let moved = try #require(reset.body["shards"] as? [[String: Any]])
            #expect(moved.count == 4 && moved.allSatisfy { $0["to"] as? Int == 0 })
            // The idle agent is woken by the reset, replays, and answers the next message once.
            let second = try await server.send(
                .post, "/v1/users/alice/chat", as: "alice",
                json: ["message": "two", "conversationId": conversation])
            #expect(second.status == .ok)
            let processedAfter = server.dependencies.agentStatus.snapshot.values.reduce(0) {
                $0 + $1.processed
            }
            // It went over the first message's records again (channel creation, message, reply) and the second's.
            #expect(processedAfter >= processedBefore + 4)
            let listed = try await server.send(.get, "/v1/admin/consumers", headers: headers)
            let agent = try #require(
                (listed.body["groups"] as? [[String: Any]])?.first { $0["name"] as? String == "agent" })
            #expect(agent["running"] as? Bool == true)
            #expect(
                (agent["shards"] as? [[String: Any]])?.allSatisfy {
                    $0["lastError"] is NSNull && $0["lag"] is Int && $0["running"] as? Bool == true
                }
                    == true)
            let records = try await server.storage.channelRecords(
                stream: .chatEvents, channelID: conversation, after: 0, limit: 100)
            #expect(records.filter { $0.actor == "agent" }.count == 2)
            expectError(
                try await server.send(
                    .post, "/v1/admin/consumers/agent/reset", json: ["latest": true, "toSeq": 1],
                    headers: headers),
                .badRequest, "invalid_request")
            expectError(
                try await server.send(
                    .post, "/v1/admin/consumers/agent/reset", json: ["toSeq": 999_999], headers: headers),
                .badRequest, "invalid_request")
        }
    }

    @Test func aRedriveThroughTheServerUsesTheConfiguredModel() async throws {
        try await withFakeModel { baseURL, received in
            let model = OpenAIResponder.Configuration(baseURL: baseURL, model: "tiny", apiKey: "sk-test")
            try await TestServer.run(configure: { $0.agent.openAI = model }) { server in
                let channel = try await server.createChannel(by: "alice", agent: true)
                let message = try await server.post("are you there?", in: channel, by: "alice")
                let id = try #require(message["id"] as? String)
                let record = try await #require(
                    try server.storage.channelRecords(
                        stream: .chatEvents, channelID: channel, after: 1, limit: 1
                    ).first)
                try await server.storage.addDeadLetter(
                    DeadLetter(
                        group: "agent", stream: record.stream, shard: record.shard, seq: record.seq,
                        error: "model down", attempts: 5, failedAt: .now()))
                let response = try await server.send(
                    .post, "/v1/admin/consumers/agent/dlq/redrive", headers: try key(server))
                #expect(response.status == .ok, "\(response.text)")
                #expect(received.requests.withLock { $0.count } == 1)
                #expect(
                    try server.dependencies.chat.reply(to: id, in: channel)?.text == "echo: are you there?")
            }
        }
    }

    @Test func redriveAnswersDeadLetteredMessages() async throws {
        try await TestServer.run { server in
            let channel = try await server.createChannel(by: "alice", agent: true)
            let message = try await server.post("hello?", in: channel, by: "alice")
            let id = try #require(message["id"] as? String)
            let record = try await #require(
                try server.storage.channelRecords(stream: .chatEvents, channelID: channel, after: 1, limit: 1)
                    .first)
            try await server.storage.addDeadLetter(
                DeadLetter(
                    group: "agent", stream: record.stream, shard: record.shard, seq: record.seq,
                    error: "model down",
                    attempts: 5, failedAt: .now()))
            let response = try await server.send(
                .post, "/v1/admin/consumers/agent/dlq/redrive", headers: try key(server))
            #expect(response.status == .ok, "\(response.text)")
            #expect((response.body["redriven"] as? [String])?.count == 1)
            #expect(try await server.storage.deadLetters(group: "agent").isEmpty)
            #expect(try server.dependencies.chat.reply(to: id, in: channel)?.senderId == "agent")
        }
    }

    @Test func theShippedAlertRulesNameOnlyMetricsTheServerExports() async throws {
        let rules = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Config/prometheus/chatlog-alerts.yml")
        let text = try String(contentsOf: rules, encoding: .utf8)
        let named = Set(text.matches(of: /chatlog_[a-z_]+/).map { String($0.output) })
        #expect(named.count >= 5)
        try await TestServer.run { server in
            _ = try await server.send(.get, "/v1/health")
            let metrics = try await server.send(.get, "/metrics")
            let exported = Set(
                metrics.text.split(separator: "\n").filter { $0.hasPrefix("# TYPE ") }
                    .map { String($0.split(separator: " ")[2]) })
            for name in named.sorted() {
                #expect(exported.contains(name), "\(name) is in the alert rules but not in /metrics")
            }
        }
    }
}
