import EventLog
import Foundation
import HTTPTypes
import Testing

@Suite(.timeLimit(.minutes(1))) struct ProjectionRebuildTests {
    @Test func rebuildingTheProjectionsFromTheLogGivesByteForByteTheSameTables() async throws {
        try await TestServer.run(agent: true) { server in
            let channel = try await server.createChannel(by: "alice", members: ["bob"], agent: true)
            let other = try await server.createChannel(by: "bob")
            var ids: [String] = []
            for index in 0..<20 {
                let message = try await server.post(
                    "message \(index)", in: index % 2 == 0 ? channel : other, by: "bob")
                ids.append(try #require(message["id"] as? String))
            }
            _ = try await server.send(
                .patch, "/v1/channels/\(other)/messages/\(ids[1])", as: "bob", json: ["text": "edited"])
            _ = try await server.send(.delete, "/v1/channels/\(other)/messages/\(ids[3])", as: "bob")
            _ = try await server.send(
                .patch, "/v1/channels/\(channel)", as: "alice", json: ["name": "renamed"])
            _ = try await server.send(.delete, "/v1/channels/\(channel)/members/bob", as: "alice")
            let (_, secret) = try server.dependencies.apiKeys.create(name: "ingest", scopes: [.events])
            let key: HTTPFields = [HTTPField.Name("X-API-Key")!: secret]
            var events: [String] = []
            for index in 0..<6 {
                let response = try await server.send(
                    .post, "/v1/events",
                    json: ["source": "s\(index % 2)", "eventType": "t", "payload": ["n": index]],
                    headers: key)
                events.append(try #require(response.body["eventId"] as? String))
            }
            _ = try await server.send(.post, "/v1/events/\(events[0])/ack", headers: key)
            _ = try await server.send(.delete, "/v1/events/\(events[1])", headers: key)
            // The agent answers every message in its channel before the comparison.
            _ = try await server.send(
                .post, "/v1/users/alice/chat", as: "alice",
                json: ["message": "last", "conversationId": channel])

            let before = try server.storage.projectionDigests()
            #expect(before.values.contains { $0.entries > 0 })
            let folded = try await server.storage.rebuildProjections()
            #expect(folded > 30)
            #expect(try server.storage.projectionDigests() == before)
            #expect(try server.storage.verify().isSound)
        }
    }
}
