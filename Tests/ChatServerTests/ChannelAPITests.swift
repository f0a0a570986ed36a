import ChatlogTestSupport
import Foundation
import HTTPTypes
import Testing

/// Three minutes: its JetStream cases wait for one of the test cluster's few slots, and that
/// wait counts against the limit.
@Suite(.timeLimit(.minutes(3))) struct ChannelAPITests {
    @Test(arguments: TestBackend.allCases)
    func creatingAChannelMakesTheCreatorAMemberAndShowsTheDocumentedShape(on backend: TestBackend)
        async throws
    {
        try await TestServer.run(on: backend) { server in
            let response = try await server.send(
                .post, "/v1/channels", as: "alice",
                json: ["name": " general ", "members": ["bob", "alice"], "agent": true])
            #expect(response.status == .created)
            let channel = try #require(response["channel"])
            #expect(channel["name"] as? String == "general")
            #expect(channel["members"] as? [String] == ["alice", "bob"])
            #expect(channel["agent"] as? Bool == true)
            #expect(channel["createdBy"] as? String == "alice")
            let createdAt = try #require(channel["createdAt"] as? String)
            #expect(createdAt.count == 27 && createdAt.hasSuffix("Z"))
            let mine = try await server.send(.get, "/v1/channels", as: "bob")
            #expect(
                (mine.body["channels"] as? [[String: Any]])?.map { $0["id"] as? String } == [
                    channel["id"] as? String
                ])
        }
    }

    @Test(arguments: TestBackend.allCases)
    func aReadMarkerMovesForwardCountsUnreadAndReachesOnlyTheReadersSessions(on backend: TestBackend)
        async throws
    {
        try await TestServer.run(on: backend) { server in
            let channel = try await server.createChannel(by: "alice", members: ["bob"])
            for index in 0..<3 { _ = try await server.post("m\(index)", in: channel, by: "alice") }
            func listed(_ user: String) async throws -> [String: Any] {
                let list = try await server.send(.get, "/v1/channels", as: user)
                return try #require((list.body["channels"] as? [[String: Any]])?.first)
            }
            #expect(try await listed("bob")["lastReadSeq"] as? Int == 0)
            #expect(try await listed("bob")["unreadCount"] as? Int == 3)
            // Bob's other session hears of his marker; Alice's does not.
            let bobElsewhere = WebSocketProbe(port: server.port, token: try await server.token("bob"))
            let aliceProbe = WebSocketProbe(port: server.port, token: try await server.token("alice"))
            _ = try await bobElsewhere.subscribe(channel)
            _ = try await aliceProbe.subscribe(channel)

            let read = try await server.send(
                .post, "/v1/channels/\(channel)/read", as: "bob", json: ["seq": 3])
            #expect(read.status == .ok, "\(read.text)")
            #expect(read.body["lastReadSeq"] as? Int == 3)
            let frame = try await bobElsewhere.next()
            #expect(frame["type"] as? String == "read")
            #expect(frame["channelId"] as? String == channel && frame["seq"] as? Int == 3)
            #expect(try await listed("bob")["unreadCount"] as? Int == 1)
            #expect(try await listed("alice")["lastReadSeq"] as? Int == 0)

            // Backwards is a no-op that answers where the marker stands; past the head is refused.
            let back = try await server.send(
                .post, "/v1/channels/\(channel)/read", as: "bob", json: ["seq": 1])
            #expect(back.status == .ok && back.body["lastReadSeq"] as? Int == 3)
            expectError(
                try await server.send(.post, "/v1/channels/\(channel)/read", as: "bob", json: ["seq": 99]),
                .badRequest, "invalid_request")
            expectError(
                try await server.send(.post, "/v1/channels/\(channel)/read", as: "mallory", json: ["seq": 1]),
                .notFound, "not_found")

            // Alice posts next: her own socket gets the message, never Bob's marker.
            _ = try await server.post("after", in: channel, by: "alice")
            #expect(try await aliceProbe.next()["type"] as? String == "message")
            _ = try await bobElsewhere.close()
            _ = try await aliceProbe.close()
        }
    }

    @Test(arguments: TestBackend.allCases) func aChannelDoesNotExistForNonMembers(on backend: TestBackend)
        async throws
    {
        try await TestServer.run(on: backend) { server in
            let channel = try await server.createChannel(by: "alice")
            expectError(
                try await server.send(.get, "/v1/channels/\(channel)", as: "mallory"), .notFound, "not_found")
            expectError(
                try await server.send(
                    .post, "/v1/channels/\(channel)/messages", as: "mallory", json: ["text": "hi"]),
                .notFound, "not_found")
            expectError(
                try await server.send(.get, "/v1/channels/\(channel)/messages", as: "mallory"), .notFound,
                "not_found")
            expectError(
                try await server.send(
                    .patch, "/v1/channels/\(channel)", as: "mallory", json: ["name": "mine"]),
                .notFound, "not_found")
            expectError(
                try await server.send(
                    .post, "/v1/channels/\(channel)/members", as: "mallory", json: ["userId": "mallory"]),
                .notFound, "not_found")
            let mine = try await server.send(.get, "/v1/channels", as: "mallory")
            #expect((mine.body["channels"] as? [Any])?.isEmpty == true)
        }
    }

    @Test(arguments: TestBackend.allCases) func membershipChangesAreRecordsAndGovernAccess(
        on backend: TestBackend
    ) async throws {
        try await TestServer.run(on: backend) { server in
            let channel = try await server.createChannel(by: "alice")
            let added = try await server.send(
                .post, "/v1/channels/\(channel)/members", as: "alice", json: ["userId": "carol"])
            #expect(added.status == .ok)
            #expect(added["channel"]?["members"] as? [String] == ["alice", "carol"])
            expectError(
                try await server.send(
                    .post, "/v1/channels/\(channel)/members", as: "alice", json: ["userId": "carol"]),
                .conflict, "conflict")
            _ = try await server.post("hello carol", in: channel, by: "carol")
            expectError(
                try await server.send(.delete, "/v1/channels/\(channel)/members/alice", as: "carol"),
                .forbidden, "forbidden")
            let removed = try await server.send(.delete, "/v1/channels/\(channel)/members/carol", as: "alice")
            #expect(removed["channel"]?["members"] as? [String] == ["alice"])
            expectError(
                try await server.send(.get, "/v1/channels/\(channel)", as: "carol"), .notFound, "not_found")
            let renamed = try await server.send(
                .patch, "/v1/channels/\(channel)", as: "alice", json: ["name": "renamed"])
            #expect(renamed["channel"]?["name"] as? String == "renamed")
            // Every change is a record with the next channel seq.
            let records = try await server.storage.channelRecords(
                stream: .chatEvents, channelID: channel, after: 0, limit: 100)
            #expect(
                records.map(\.type) == [
                    "channel.created", "member.added", "message.created", "member.removed", "channel.renamed",
                ])
            #expect(records.map(\.channelSeq) == [1, 2, 3, 4, 5])
        }
    }

    @Test(arguments: TestBackend.allCases) func onlyTheCreatorDeletesAndThenTheChannelIsGone(
        on backend: TestBackend
    ) async throws {
        try await TestServer.run(on: backend) { server in
            let channel = try await server.createChannel(by: "alice", members: ["bob"])
            expectError(
                try await server.send(.delete, "/v1/channels/\(channel)", as: "bob"), .forbidden, "forbidden")
            let deleted = try await server.send(.delete, "/v1/channels/\(channel)", as: "alice")
            #expect(deleted.status == .ok)
            #expect(deleted["channel"]?["id"] as? String == channel)
            expectError(
                try await server.send(.get, "/v1/channels/\(channel)", as: "alice"), .notFound, "not_found")
            expectError(
                try await server.send(
                    .post, "/v1/channels/\(channel)/messages", as: "bob", json: ["text": "x"]),
                .notFound, "not_found")
            #expect(
                (try await server.send(.get, "/v1/channels", as: "bob").body["channels"] as? [Any])?.isEmpty
                    == true)
        }
    }
}
