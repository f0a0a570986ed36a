import ChatlogTestSupport
import Foundation
import HTTPTypes
import Testing

/// Three minutes: its JetStream cases wait for one of the test cluster's few slots, and that
/// wait counts against the limit.
@Suite(.timeLimit(.minutes(3))) struct MessageAPITests {
    @Test(arguments: TestBackend.allCases) func postedMessagesHaveTheDocumentedShapeAndChannelSeq(
        on backend: TestBackend
    ) async throws {
        try await TestServer.run(on: backend) { server in
            let channel = try await server.createChannel(by: "alice")
            let response = try await server.send(
                .post, "/v1/channels/\(channel)/messages", as: "alice",
                json: ["text": "hi", "metadata": ["k": [1, 2]]])
            #expect(response.status == .created)
            let message = try #require(response["message"])
            for key in ["id", "channelId", "seq", "senderId", "text", "createdAt"] {
                #expect(message[key] != nil, "\(key)")
            }
            #expect(message["seq"] as? Int == 2)
            #expect(message["senderId"] as? String == "alice")
            #expect((message["metadata"] as? [String: Any])?["k"] as? [Int] == [1, 2])
            let page = try await server.send(.get, "/v1/channels/\(channel)/messages", as: "alice")
            let listed = try #require((page.body["messages"] as? [[String: Any]])?.first)
            #expect(listed["createdAt"] as? String == message["createdAt"] as? String)
            #expect(listed["id"] as? String == message["id"] as? String)
            #expect(page.body["nextCursor"] is NSNull)
        }
    }

    @Test(arguments: TestBackend.allCases)
    func idempotencyKeyReturnsTheSameMessageAndConflictsOnADifferentBody(on backend: TestBackend) async throws
    {
        try await TestServer.run(on: backend) { server in
            let channel = try await server.createChannel(by: "alice", members: ["bob"])
            let key: HTTPFields = [HTTPField.Name("Idempotency-Key")!: "abc"]
            let path = "/v1/channels/\(channel)/messages"
            let first = try await server.send(.post, path, as: "alice", json: ["text": "once"], headers: key)
            let again = try await server.send(.post, path, as: "alice", json: ["text": "once"], headers: key)
            #expect(first.status == .created)
            #expect(again.status == .ok)
            #expect(again["message"]?["id"] as? String == first["message"]?["id"] as? String)
            #expect(again["message"]?["createdAt"] as? String == first["message"]?["createdAt"] as? String)
            expectError(
                try await server.send(.post, path, as: "alice", json: ["text": "twice"], headers: key),
                .conflict, "conflict")
            // The key is scoped to the user: bob's use of it is his own message.
            let bobs = try await server.send(.post, path, as: "bob", json: ["text": "once"], headers: key)
            #expect(bobs.status == .created)
            let page = try await server.send(.get, path, as: "alice")
            #expect((page.body["messages"] as? [Any])?.count == 2)
        }
    }

    @Test(arguments: TestBackend.allCases) func editAndDeleteAreRecordsAndOnlyTheSenderMayDoThem(
        on backend: TestBackend
    ) async throws {
        try await TestServer.run(on: backend) { server in
            let channel = try await server.createChannel(by: "alice", members: ["bob"])
            let message = try await server.post("first", in: channel, by: "alice")
            let id = try #require(message["id"] as? String)
            let path = "/v1/channels/\(channel)/messages/\(id)"
            expectError(
                try await server.send(.patch, path, as: "bob", json: ["text": "hacked"]), .forbidden,
                "forbidden")
            let edited = try await server.send(.patch, path, as: "alice", json: ["text": "second"])
            #expect(edited["message"]?["text"] as? String == "second")
            #expect(edited["message"]?["editedAt"] is String)
            expectError(try await server.send(.delete, path, as: "bob"), .forbidden, "forbidden")
            let deleted = try await server.send(.delete, path, as: "alice")
            #expect(deleted.status == .ok)
            #expect(deleted["message"]?["deleted"] as? Bool == true)
            #expect(deleted["message"]?["text"] == nil)
            #expect(try await server.send(.delete, path, as: "alice").status == .ok)
            expectError(
                try await server.send(.patch, path, as: "alice", json: ["text": "x"]), .conflict, "conflict")
            expectError(
                try await server.send(
                    .patch, "/v1/channels/\(channel)/messages/nope", as: "alice", json: ["text": "x"]),
                .notFound, "not_found")
            let records = try await server.storage.channelRecords(
                stream: .chatEvents, channelID: channel, after: 0, limit: 100)
            #expect(
                records.map(\.type) == [
                    "channel.created", "message.created", "message.edited", "message.deleted",
                ])
        }
    }

    @Test(arguments: TestBackend.allCases) func historyPagesFollowTheContract(on backend: TestBackend)
        async throws
    {
        try await TestServer.run(on: backend) { server in
            let channel = try await server.createChannel(by: "alice")
            for index in 1...7 { _ = try await server.post("m\(index)", in: channel, by: "alice") }
            // Message seqs are 2...8 (the channel's creation is seq 1).
            let path = "/v1/channels/\(channel)/messages"
            func seqs(_ query: String) async throws -> ([Int], String?) {
                let response = try await server.send(.get, path + query, as: "alice")
                #expect(response.status == .ok, "\(response.text)")
                return (
                    (response.body["messages"] as? [[String: Any]] ?? []).compactMap { $0["seq"] as? Int },
                    response.body["nextCursor"] as? String
                )
            }
            let (newest, older) = try await seqs("?limit=3")
            #expect(newest == [6, 7, 8])
            let (olderPage, oldest) = try await seqs("?limit=3&cursor=\(try #require(older))")
            #expect(olderPage == [3, 4, 5])
            let (last, end) = try await seqs("?limit=3&cursor=\(try #require(oldest))")
            #expect(last == [2])
            #expect(end == nil)
            #expect(try await seqs("?limit=2&before=5").0 == [3, 4])
            let (after, newer) = try await seqs("?limit=2&after=4")
            #expect(after == [5, 6])
            #expect(try await seqs("?limit=2&cursor=\(try #require(newer))").0 == [7, 8])
            #expect(try await seqs("?after=3&before=6").0 == [4, 5])
            #expect(try await seqs("").0 == [2, 3, 4, 5, 6, 7, 8])
            for bad in [
                "?limit=0", "?limit=101", "?limit=x", "?before=-1", "?cursor=%%%", "?cursor=bm8&after=1",
            ] {
                expectError(
                    try await server.send(.get, path + bad, as: "alice"), .badRequest, "invalid_request")
            }
        }
    }

    @Test(arguments: TestBackend.allCases) func paginationReturnsEveryMessageExactlyOnceWhileWritersAppend(
        on backend: TestBackend
    ) async throws {
        try await TestServer.run(on: backend) { server in
            let channel = try await server.createChannel(by: "alice")
            for index in 0..<30 { _ = try await server.post("before \(index)", in: channel, by: "alice") }
            let writer = Task {
                for index in 0..<40 { _ = try await server.post("during \(index)", in: channel, by: "alice") }
            }
            // Walk from the newest page towards the oldest while new messages land above it.
            var seen: [Int] = []
            var query = "?limit=7"
            while true {
                let response = try await server.send(
                    .get, "/v1/channels/\(channel)/messages" + query, as: "alice")
                seen += (response.body["messages"] as? [[String: Any]] ?? []).compactMap { $0["seq"] as? Int }
                guard let cursor = response.body["nextCursor"] as? String else { break }
                query = "?limit=7&cursor=\(cursor)"
            }
            try await writer.value
            #expect(Set(seen).count == seen.count, "no message twice")
            #expect(seen.sorted() == Array(2...seen.max()!), "no gap below the first page's newest")
            // And walking forward from the start sees every message once, in order.
            var forward: [Int] = []
            query = "?limit=9&after=0"
            while true {
                let response = try await server.send(
                    .get, "/v1/channels/\(channel)/messages" + query, as: "alice")
                forward += (response.body["messages"] as? [[String: Any]] ?? []).compactMap {
                    $0["seq"] as? Int
                }
                guard let cursor = response.body["nextCursor"] as? String else { break }
                query = "?limit=9&cursor=\(cursor)"
            }
            #expect(forward == Array(2...71))
        }
    }

    @Test(arguments: TestBackend.allCases) func concurrentWritersGetUniqueIncreasingSeqs(
        on backend: TestBackend
    ) async throws {
        try await TestServer.run(on: backend) { server in
            let channel = try await server.createChannel(by: "alice")
            let seqs = try await withThrowingTaskGroup(of: [Int].self) { group in
                for writer in 0..<20 {
                    group.addTask {
                        var seqs: [Int] = []
                        for index in 0..<10 {
                            let message = try await server.post(
                                "w\(writer) \(index)", in: channel, by: "alice")
                            seqs.append(try #require(message["seq"] as? Int))
                        }
                        return seqs
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            for perWriter in seqs { #expect(perWriter == perWriter.sorted()) }
            let all = seqs.flatMap { $0 }
            #expect(Set(all).count == 200)
            #expect(all.sorted() == Array(2...201))
        }
    }
}
