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
