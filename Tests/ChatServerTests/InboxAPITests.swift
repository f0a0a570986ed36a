import ChatlogTestSupport
import EventLog
import Foundation
import HTTPTypes
import Inbox
import Testing

/// Three minutes: its JetStream cases wait for one of the test cluster's few slots, and that
/// wait counts against the limit.
@Suite(.timeLimit(.minutes(3))) struct InboxAPITests {
    private func key(_ server: TestServer) throws -> HTTPFields {
        let (_, secret) = try server.dependencies.apiKeys.create(name: "ingest", scopes: [.events])
        return [HTTPField.Name("X-API-Key")!: secret]
    }

    private func postEvent(
        _ server: TestServer, _ key: HTTPFields, source: String = "billing", type: String = "invoice.paid",
        payload: [String: Any] = ["amount": 12], metadata: [String: Any]? = nil
    ) async throws -> APIResponse {
        var body: [String: Any] = ["source": source, "eventType": type, "payload": payload]
        if let metadata { body["metadata"] = metadata }
        return try await server.send(.post, "/v1/events", json: body, headers: key)
    }

    private func inbox(_ server: TestServer, _ key: HTTPFields, _ query: String = "") async throws
        -> APIResponse
    {
        try await server.send(.get, "/v1/inbox" + query, headers: key)
    }

    private func ids(_ response: APIResponse) -> [String] {
        (response.body["events"] as? [[String: Any]] ?? []).compactMap { $0["eventId"] as? String }
    }

    @Test(arguments: TestBackend.allCases) func everyEndpointTakesAnAPIKeyAndNothingElse(
        on backend: TestBackend
    ) async throws {
        try await TestServer.run(on: backend) { server in
            expectError(try await server.send(.get, "/v1/inbox"), .unauthorized, "unauthorized")
            expectError(try await server.send(.get, "/v1/inbox", as: "alice"), .unauthorized, "unauthorized")
            expectError(
                try await server.send(
                    .get, "/v1/inbox", headers: [HTTPField.Name("X-API-Key")!: "clk_wrong"]),
                .unauthorized, "unauthorized")
            expectError(
                try await server.send(.post, "/v1/events", json: ["source": "s"], headers: [:]),
                .unauthorized,
                "unauthorized")
            #expect(try await server.send(.get, "/v1/health").status == .ok)
        }
    }

    @Test(arguments: TestBackend.allCases) func postingGives201WithTheDocumentedShapeAndBadBodiesAre400Or413(
        on backend: TestBackend
    ) async throws {
        try await TestServer.run(on: backend) { server in
            let key = try key(server)
            let created = try await postEvent(
                server, key, metadata: ["correlationId": "c-1", "priority": "high"])
            #expect(created.status == .created)
            let eventID = try #require(created.body["eventId"] as? String)
            #expect(eventID == eventID.lowercased() && UUID(uuidString: eventID) != nil)
            #expect(created.body["status"] as? String == "pending")
            #expect(created.body["message"] is String)
            #expect(created.body["requestId"] as? String == created.headers[HTTPField.Name("X-Request-ID")!])
            let createdAt = try #require(created.body["createdAt"] as? String)
            #expect(
                createdAt.count == "2026-01-01T12:00:00.123456Z".count && Timestamp(rfc3339: createdAt) != nil
            )

            let page = try await inbox(server, key)
            let event = try #require((page.body["events"] as? [[String: Any]])?.first)
            #expect(event["source"] as? String == "billing")
            #expect(event["eventType"] as? String == "invoice.paid")
            #expect((event["payload"] as? [String: Any])?["amount"] as? Int == 12)
            #expect((event["metadata"] as? [String: Any])?["priority"] as? String == "high")
            #expect((event["metadata"] as? [String: Any])?["correlationId"] as? String == "c-1")
            #expect(event["createdAt"] as? String == createdAt)

            let bad: [[String: Any]] = [
                ["source": "s", "eventType": "t"],
                ["source": "s", "payload": [:] as [String: Any]],
                ["source": "s", "eventType": "t", "payload": [1, 2]],
                ["source": "s", "eventType": "t", "payload": [:] as [String: Any], "extra": 1],
                [
                    "source": "s", "eventType": "t", "payload": [:] as [String: Any],
                    "metadata": ["colour": "red"],
                ],
                [
                    "source": "s", "eventType": "t", "payload": [:] as [String: Any],
                    "metadata": ["priority": "urgent"],
                ],
                ["source": "", "eventType": "t", "payload": [:] as [String: Any]],
                ["source": 5, "eventType": "t", "payload": [:] as [String: Any]],
            ]
            for body in bad {
                expectError(
                    try await server.send(.post, "/v1/events", json: body, headers: key), .badRequest,
                    "invalid_request")
            }
            let huge: [String: Any] = [
                "source": "s", "eventType": "t", "payload": ["blob": String(repeating: "x", count: 420_000)],
            ]
            expectError(
                try await server.send(.post, "/v1/events", json: huge, headers: key), .contentTooLarge,
                "payload_too_large")
            #expect(ids(try await inbox(server, key)) == [eventID])
        }
    }

    @Test(arguments: TestBackend.allCases) func aRepeatedIdempotencyKeyReturnsTheOriginalAndAppendsNothing(
        on backend: TestBackend
    ) async throws {
        try await TestServer.run(on: backend) { server in
            let key = try key(server)
            let first = try await postEvent(server, key, metadata: ["idempotencyKey": "once"])
            let second = try await postEvent(
                server, key, payload: ["other": true], metadata: ["idempotencyKey": "once"])
            #expect(first.status == .created)
            #expect(second.status == .ok)
            #expect(second.body["eventId"] as? String == first.body["eventId"] as? String)
            #expect(second.body["createdAt"] as? String == first.body["createdAt"] as? String)
            #expect(ids(try await inbox(server, key)).count == 1)
            let infos = try await server.storage.shardInfos(server.storage.descriptor(.triggers).shards)
            #expect(infos.reduce(0) { $0 + $1.head } == 1)
            // Another API key has its own keys; a key whose event was deleted is a conflict.
            let other = try await postEvent(
                server, try self.key(server), metadata: ["idempotencyKey": "once"])
            #expect(other.status == .created)
            let firstID = try #require(first.body["eventId"] as? String)
            #expect(try await server.send(.delete, "/v1/events/\(firstID)", headers: key).status == .ok)
            expectError(
                try await postEvent(server, key, metadata: ["idempotencyKey": "once"]), .conflict, "conflict")
        }
    }

    @Test(arguments: TestBackend.allCases)
    func pagesCoverEveryPendingEventOnceOldestFirstAndFilteredPagesAreFull(on backend: TestBackend)
        async throws
    {
        try await TestServer.run(on: backend) { server in
            let key = try key(server)
            var posted: [(id: String, source: String, type: String)] = []
            for index in 0..<45 {
                let source = ["billing", "crm", "ops"][index % 3]
                let type = ["created", "updated"][index % 2]
                let response = try await postEvent(
                    server, key, source: source, type: type, payload: ["n": index])
                posted.append((try #require(response.body["eventId"] as? String), source, type))
            }
            let filters: [(String, (String, String) -> Bool)] = [
                ("", { _, _ in true }),
                ("&source=crm", { source, _ in source == "crm" }),
                ("&eventType=updated", { _, type in type == "updated" }),
                ("&source=ops&eventType=created", { source, type in source == "ops" && type == "created" }),
            ]
            for (query, matches) in filters {
                let expected = posted.filter { matches($0.source, $0.type) }.map(\.id)
                var seen: [String] = []
                var cursor: String?
                repeat {
                    let page = try await inbox(
                        server, key, "?limit=4" + query + (cursor.map { "&cursor=\($0)" } ?? ""))
                    #expect(page.status == .ok, "\(page.text)")
                    let pageIDs = ids(page)
                    let pagination = try #require(page["pagination"])
                    #expect(pagination["limit"] as? Int == 4)
                    cursor = pagination["nextCursor"] as? String
                    // A page is full whenever more matching events follow it.
                    if cursor != nil { #expect(pageIDs.count == 4) }
                    seen += pageIDs
                } while cursor != nil
                #expect(seen == expected, "filter \(query)")
            }
            for query in ["?limit=0", "?limit=101", "?limit=ten", "?cursor=not-a-cursor"] {
                expectError(try await inbox(server, key, query), .badRequest, "invalid_request")
            }
            #expect(ids(try await inbox(server, key)).count == 45)
        }
    }

    @Test(arguments: TestBackend.allCases)
    func ackIsConditionalExactlyOneOfTwoConcurrentAcksWinsAndDeleteIsIdempotent(on backend: TestBackend)
        async throws
    {
        try await TestServer.run(on: backend) { server in
            let key = try key(server)
            let eventID = try #require(try await postEvent(server, key).body["eventId"] as? String)
            let acks = try await withThrowingTaskGroup(of: (HTTPResponse.Status, String).self) { group in
                for _ in 0..<2 {
                    group.addTask {
                        let response = try await server.send(.post, "/v1/events/\(eventID)/ack", headers: key)
                        return (response.status, response.text)
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(acks.map(\.0).sorted { $0.code < $1.code } == [.ok, .conflict])
            let winnerText = try #require(acks.first { $0.0 == .ok }).1
            let winner = try #require(
                try JSONSerialization.jsonObject(with: Data(winnerText.utf8)) as? [String: Any])
            #expect(try #require(acks.first { $0.0 == .conflict }).1.contains("\"code\":\"conflict\""))
            #expect(winner["status"] as? String == "acknowledged")
            #expect(winner["eventId"] as? String == eventID)
            #expect((winner["acknowledgedAt"] as? String).flatMap(Timestamp.init(rfc3339:)) != nil)
            #expect(ids(try await inbox(server, key)).isEmpty)

            expectError(
                try await server.send(
                    .post, "/v1/events/\(UUID().uuidString.lowercased())/ack", headers: key),
                .notFound, "not_found")
            expectError(
                try await server.send(.post, "/v1/events/nope/ack", headers: key), .badRequest,
                "invalid_request")

            let other = try #require(try await postEvent(server, key).body["eventId"] as? String)
            for _ in 0..<2 {
                let deleted = try await server.send(.delete, "/v1/events/\(other)", headers: key)
                #expect(deleted.status == .ok)
                #expect(deleted.body["eventId"] as? String == other)
                #expect(deleted.body["requestId"] is String)
            }
            #expect(
                try await server.send(.delete, "/v1/events/\(UUID().uuidString.lowercased())", headers: key)
                    .status == .ok)
            #expect(!ids(try await inbox(server, key)).contains(other))
            expectError(
                try await server.send(.post, "/v1/events/\(other)/ack", headers: key), .notFound, "not_found")
        }
    }

    @Test(arguments: TestBackend.allCases) func eventsExpireThroughTheStreamsRetention(
        on backend: TestBackend
    ) async throws {
        try await TestServer.run(on: backend) { server in
            let key = try key(server)
            let old = try #require(try await postEvent(server, key).body["eventId"] as? String)
            // Seven days and a minute later, retention trims the record and the event with it.
            let report = try await server.storage.enforceRetention(
                now: Timestamp.now().adding(.seconds(7 * 86_400 + 60)))
            #expect(report.totalTrimmed == 1)
            let fresh = try #require(try await postEvent(server, key).body["eventId"] as? String)
            #expect(ids(try await inbox(server, key)) == [fresh])
            expectError(
                try await server.send(.post, "/v1/events/\(old)/ack", headers: key), .notFound, "not_found")
            #expect(try server.storage.verify().isSound)
        }
    }

    @Test(arguments: TestBackend.allCases) func aBatchCommitsItsValidEntriesTogetherAndNamesTheRefusedOnes(
        on backend: TestBackend
    ) async throws {
        try await TestServer.run(on: backend) { server in
            let key = try key(server)
            func entry(_ source: String, idempotencyKey: String? = nil) -> [String: Any] {
                var event: [String: Any] = [
                    "source": source, "eventType": "invoice.paid", "payload": ["n": 1],
                ]
                if let idempotencyKey { event["metadata"] = ["idempotencyKey": idempotencyKey] }
                return event
            }
            let commitsBefore = server.storage.writerStatistics.commits
            let response = try await server.send(
                .post, "/v1/events/batch",
                json: [
                    "events": [
                        entry("a", idempotencyKey: "k-1"),
                        ["source": "b", "payload": [:]],  // no eventType
                        entry("c"),
                        "not an event",
                        entry("e", idempotencyKey: "k-1"),  // the first entry again
                        ["source": "f", "eventType": "t", "payload": [:], "colour": "red"],
                        ["source": "g", "eventType": "t", "payload": []],  // payload not an object
                    ] as [Any]
                ], headers: key)
            #expect(response.status == .ok, "\(response.text)")
            #expect(response.body["failedCount"] as? Int == 4)
            #expect(response.body["requestId"] is String)
            let results = try #require(response.body["results"] as? [[String: Any]])
            try #require(results.count == 7)
            for refused in [1, 3, 5, 6] {
                let error = try #require(results[refused]["error"] as? [String: Any], "entry \(refused)")
                #expect(error["code"] as? String == "invalid_request")
                #expect(error["message"] is String)
                #expect(results[refused]["eventId"] == nil)
            }
            #expect(
                ((results[1]["error"] as? [String: Any])?["details"] as? [String: Any])?["index"] as? String
                    == "1")
            #expect(
                ((results[6]["error"] as? [String: Any])?["details"] as? [String: Any])?["field"] as? String
                    == "payload")
            #expect(results[0]["created"] as? Bool == true && results[2]["created"] as? Bool == true)
            #expect(results[4]["created"] as? Bool == false)
            #expect(results[4]["eventId"] as? String == results[0]["eventId"] as? String)
            let posted = [results[0], results[2]].compactMap { $0["eventId"] as? String }
            #expect(ids(try await inbox(server, key)) == posted)
            if backend == .lmdb {
                #expect(server.storage.writerStatistics.commits == commitsBefore + 1)
            }
            // The same batch again: its idempotency key names the first event.
            let again = try await server.send(
                .post, "/v1/events/batch", json: ["events": [entry("a", idempotencyKey: "k-1")]], headers: key
            )
            let repeated = try #require((again.body["results"] as? [[String: Any]])?.first)
            #expect(repeated["eventId"] as? String == posted[0] && repeated["created"] as? Bool == false)
            #expect(again.body["failedCount"] as? Int == 0)
            #expect(ids(try await inbox(server, key)) == posted)
        }
    }

    @Test func aBatchThatIsNotOneIsRefusedWholeAndWritesNothing() async throws {
        try await TestServer.run { server in
            let key = try key(server)
            let event: [String: Any] = ["source": "s", "eventType": "t", "payload": [:]]
            for body: [String: Any] in [
                [:], ["events": []], ["events": "many"], ["events": Array(repeating: event, count: 501)],
                ["events": [event], "extra": 1],
            ] {
                expectError(
                    try await server.send(.post, "/v1/events/batch", json: body, headers: key), .badRequest,
                    "invalid_request")
            }
            expectError(
                try await server.send(.post, "/v1/events/batch", json: ["events": [event]], headers: [:]),
                .unauthorized, "unauthorized")
            // The batch route is not an event id: only POST is allowed on it.
            for method in [HTTPRequest.Method.options, .delete, .get] {
                let refused = expectError(
                    try await server.send(method, "/v1/events/batch", headers: key), .methodNotAllowed,
                    "method_not_allowed")
                #expect(refused.headers[.allow] == "POST")
            }
            #expect(ids(try await inbox(server, key)).isEmpty)
            let full = try await server.send(
                .post, "/v1/events/batch", json: ["events": Array(repeating: event, count: 500)], headers: key
            )
            #expect(full.status == .ok && full.body["failedCount"] as? Int == 0)
            #expect((full.body["results"] as? [Any])?.count == 500)
        }
    }
}
