import ChatServer
import ChatlogTestSupport
import EventLog
import Foundation
import HTTPTypes
import Logging
import Testing

@testable import ChatServer

@Suite(.timeLimit(.minutes(1))) struct ErrorAPITests {
    @Test func everyResponseCarriesARequestID() async throws {
        try await TestServer.run { server in
            let generated = try await server.send(.get, "/v1/health")
            let id = try #require(generated.headers[HTTPField.Name("X-Request-ID")!])
            #expect(UUID(uuidString: id) != nil && id == id.lowercased())
            let echoed = try await server.send(
                .get, "/v1/health", headers: [HTTPField.Name("X-Request-ID")!: "client-42"])
            #expect(echoed.headers[HTTPField.Name("X-Request-ID")!] == "client-42")
        }
    }

    @Test func badBodiesGetTheirOwnClearErrors() async throws {
        try await TestServer.run { server in
            let path = "/v1/channels"
            expectError(
                try await server.send(
                    .post, path, as: "alice", raw: "{\"name\": ", headers: [.contentType: "application/json"]),
                .badRequest,
                "invalid_request")
            expectError(
                try await server.send(
                    .post, path, as: "alice", raw: "{\"name\": \"x\"}", headers: [.contentType: "text/plain"]),
                .unsupportedMediaType, "unsupported_media_type")
            expectError(
                try await server.send(.post, path, as: "alice", raw: "{\"name\": \"x\"}"),
                .unsupportedMediaType, "unsupported_media_type")
            #expect(
                try await server.send(
                    .post, path, as: "alice", raw: "{\"name\": \"x\"}",
                    headers: [.contentType: "application/json; charset=utf-8"]
                ).status == .created)
            let unknown = expectError(
                try await server.send(.post, path, as: "alice", json: ["name": "x", "color": "red"]),
                .badRequest, "invalid_request")
            #expect(unknown.errorMessage?.contains("color") == true)
            // The envelope is written by hand: a field name that needs escaping still gives JSON
            // that says it back.
            let oddName = "co\"lo\\r\n\u{1}é/"
            let odd = expectError(
                try await server.send(.post, path, as: "alice", json: ["name": "x", oddName: "red"]),
                .badRequest, "invalid_request")
            #expect((odd["error"]?["details"] as? [String: String]) == ["fields": oddName])
            #expect(odd.errorMessage?.contains(oddName) == true)
            let missing = expectError(
                try await server.send(.post, path, as: "alice", json: [:] as [String: String]), .badRequest,
                "invalid_request")
            #expect(missing.errorMessage?.contains("name") == true)
            let wrongType = expectError(
                try await server.send(.post, path, as: "alice", json: ["name": 5]), .badRequest,
                "invalid_request")
            #expect(wrongType.errorMessage?.contains("name") == true)
            expectError(
                try await server.send(.post, path, as: "alice", json: ["name": ""]), .badRequest,
                "invalid_request")
            expectError(
                try await server.send(.post, path, as: "alice", json: [1, 2]), .badRequest, "invalid_request")
            // The rules the OpenAPI document publishes: at most 64 characters, no control
            // characters, not blank; and one value per key.
            for name in [String(repeating: "n", count: 65), "two\nlines", "tab\there", "   "] {
                let refused = expectError(
                    try await server.send(.post, path, as: "alice", json: ["name": name]), .badRequest,
                    "invalid_request")
                #expect((refused["error"]?["details"] as? [String: String])?["field"] == "name", "\(name)")
            }
            #expect(
                try await server.send(
                    .post, path, as: "alice", json: ["name": String(repeating: "é", count: 64)]
                )
                .status == .created)
            let repeated = expectError(
                try await server.send(
                    .post, path, as: "alice", raw: #"{"name":"shown","name":"smuggled"}"#,
                    headers: [.contentType: "application/json"]),
                .badRequest, "invalid_request")
            #expect(repeated.errorMessage?.contains("duplicate key 'name'") == true)
            expectError(
                try await server.send(
                    .post, path, as: "alice", raw: #"{"name":"x","members":["bob"],"members":[]}"#,
                    headers: [.contentType: "application/json"]),
                .badRequest, "invalid_request")
            let big = String(repeating: "x", count: 409_600)
            expectError(
                try await server.send(.post, path, as: "alice", json: ["name": big]), .contentTooLarge,
                "payload_too_large")
            // Nothing of the refused requests reached the log: only the two channels were created.
            let channels = try await server.send(.get, path, as: "alice")
            #expect((channels.body["channels"] as? [Any])?.count == 2)
        }
    }

    @Test func routingErrorsUseTheEnvelopeToo() async throws {
        try await TestServer.run { server in
            expectError(try await server.send(.get, "/v1/nothing-here", as: "alice"), .notFound, "not_found")
            let wrongMethod = expectError(
                try await server.send(.put, "/v1/channels", as: "alice"), .methodNotAllowed,
                "method_not_allowed")
            #expect(wrongMethod.headers[.allow] == "GET, POST")
        }
    }

    @Test func failedAuthenticationAndUpgradesAreRateLimitedPerAddress() async throws {
        // No refill during the test: what counts is the burst.
        try await TestServer.run(configure: { $0.rateLimit.failedAuthenticationsPerSecond = 0.0001 }) {
            server in
            // Twenty failures at once, upgrades and requests alike, then 429 with Retry-After.
            for _ in 0..<12 {
                #expect(
                    try await rawUpgradeRequest(port: server.port, headers: ["Authorization: Bearer guess"])
                        .status == 401)
            }
            for _ in 0..<8 {
                expectError(
                    try await server.send(.get, "/v1/channels", headers: [.authorization: "Bearer guess"]),
                    .unauthorized, "unauthorized")
            }
            #expect(
                try await rawUpgradeRequest(port: server.port, headers: ["Authorization: Bearer guess"])
                    .status == 429)
            let limited = expectError(
                try await server.send(.get, "/v1/channels", headers: [.authorization: "Bearer guess"]),
                .tooManyRequests, "rate_limited")
            #expect(limited.headers[.retryAfter] != nil)
            // While the address is out of failures, even good credentials wait.
            expectError(
                try await server.send(.get, "/v1/channels", as: "alice"), .tooManyRequests, "rate_limited")
            expectError(
                try await server.send(
                    .get, "/v1/inbox", headers: [HTTPField.Name("X-API-Key")!: "clk_guess"]),
                .tooManyRequests, "rate_limited")
            // Another address is untouched.
            let other = try RawConnection(port: server.port, source: "127.0.0.7")
            other.send(
                "GET /v1/channels HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \(try await server.token("alice"))\r\n"
                    + "Connection: close\r\n\r\n")
            #expect(try await other.readToClose(timeout: .seconds(10)).hasPrefix("HTTP/1.1 200"))
        }
    }

    @Test func tokensAreCheckedStrictly() async throws {
        try await TestServer.run { server in
            func status(_ authorization: String?) async throws -> APIResponse {
                var headers: HTTPFields = [:]
                if let authorization { headers[.authorization] = authorization }
                return try await server.send(.get, "/v1/channels", headers: headers)
            }
            func message(_ response: APIResponse) -> String? {
                expectError(response, .unauthorized, "unauthorized").errorMessage
            }
            #expect(message(try await status(nil)) == "missing Authorization: Bearer <token>")
            #expect(
                message(try await status("Basic abc")) == "the Authorization header must be 'Bearer <token>'")
            #expect(message(try await status("Bearer not.a.token")) == "invalid token: malformed")
            let expired = try await server.token("alice", ttl: .seconds(-60))
            #expect(message(try await status("Bearer \(expired)")) == "invalid token: expired")
            let other = try await TokenAuthority(secret: "another-secret-that-is-long-enough-too!!")
            let foreign = try await other.mint(user: "alice", ttl: .seconds(60))
            #expect(message(try await status("Bearer \(foreign)")) == "invalid token: bad signature")
            // alg "none": a valid-looking payload with no signature.
            let header = Data("{\"alg\":\"none\",\"typ\":\"JWT\"}".utf8).base64URL
            let payload = Data("{\"sub\":\"alice\",\"exp\":4102444800}".utf8).base64URL
            #expect(
                message(try await status("Bearer \(header).\(payload).")) == "invalid token: bad signature")
            #expect(try await status("Bearer \(try await server.token("alice"))").status == .ok)
        }
    }

    @Test func anotherUsersTokenSeesOnlyTheirOwnChannels() async throws {
        try await TestServer.run { server in
            _ = try await server.createChannel(by: "alice")
            let bobs = try await server.send(.get, "/v1/channels", as: "bob")
            #expect((bobs.body["channels"] as? [Any])?.isEmpty == true)
        }
    }

    @Test func theRateLimitAnswers429WithRetryAfter() async throws {
        try await TestServer.run(configure: {
            // One token per 100 s: however slow the machine, the fourth request finds none.
            $0.rateLimit.requestsPerSecond = 0.01
            $0.rateLimit.burst = 3
        }) { server in
            let token = try await server.token("alice")
            let headers: HTTPFields = [.authorization: "Bearer \(token)"]
            for _ in 0..<3 {
                #expect(try await server.send(.get, "/v1/channels", headers: headers).status == .ok)
            }
            let limited = expectError(
                try await server.send(.get, "/v1/channels", headers: headers), .tooManyRequests,
                "rate_limited")
            let retryAfter = try #require(limited.headers[.retryAfter].flatMap { Int($0) })
            #expect((1...100).contains(retryAfter))
            // Another user has their own bucket.
            #expect(try await server.send(.get, "/v1/channels", as: "bob").status == .ok)
        }
    }

    @Test func storageFaultsAre503sThatSayWhetherSpaceOrTheDeviceFailed() {
        let full = APIError.from(EventLogError.storageFull("no space left on the device"))
        #expect(full?.status == .serviceUnavailable)
        #expect(full?.code == "storage_full")
        let failed = APIError.from(EventLogError.storage("Input/output error"))
        #expect(failed?.status == .serviceUnavailable)
        #expect(failed?.code == "storage_error")
        #expect(failed?.message.contains("Input/output error") == true)
        #expect(failed?.message.contains("safe to retry") == true)
        let unconfirmed = APIError.from(EventLogError.unconfirmed("no answer from JetStream"))
        #expect(unconfirmed?.status == .serviceUnavailable)
        #expect(unconfirmed?.code == "write_unconfirmed")
        #expect(unconfirmed?.message.contains("same Idempotency-Key") == true)
    }

    @Test func storageFullIsA503ReadsKeepWorkingAndWritesResumeOnceSpaceIsFreed() async throws {
        var log = LogConfiguration(streams: ChatServer.streams)
        log.initialMapSize = 1 << 20
        log.maxMapSize = 2 << 20
        // Trimming here need not wait for the agent and delivery checkpoints, which the groups
        // store up to a second late while messages keep coming.
        log.streams = [
            StreamConfiguration(
                name: .chatEvents, shardCount: 4,
                retention: Retention(maxAge: .seconds(3600), trimUnprocessed: true)),
            StreamConfiguration(name: .triggers, shardCount: 1),
        ]
        try await TestServer.run(log: log) { server in
            let channel = try await server.createChannel(by: "alice")
            let path = "/v1/channels/\(channel)/messages"
            var accepted = 0
            var refusal: APIResponse?
            while refusal == nil, accepted < 10_000 {
                let response = try await server.send(
                    .post, path, as: "alice", json: ["text": String(repeating: "z", count: 8000)])
                if response.status == .created { accepted += 1 } else { refusal = response }
            }
            let full = try #require(refusal)
            expectError(full, .serviceUnavailable, "storage_full")
            #expect(accepted > 10)
            let history = try await server.send(.get, path + "?limit=100", as: "alice")
            #expect(history.status == .ok)
            #expect((history.body["messages"] as? [Any])?.count == min(accepted, 100))
            #expect(try server.storage.verify().isSound)
            // Retention frees pages inside the capped map: writes are taken again.
            let trimmed = try await server.storage.enforceRetention(
                now: Timestamp.now().adding(.seconds(7200)))
            #expect(trimmed.totalTrimmed > 10)
            // Pages freed by the trim are reused once no reader still holds the snapshot before
            // it: on a busy machine a delivery read may, for a moment.
            try await eventually("a write is taken again") {
                try await server.send(.post, path, as: "alice", json: ["text": "room again"]).status
                    == .created
            }
            #expect(try server.storage.verify().isSound)
        }
    }

    @Test func requestsAndUpgradesAreCountedAndAccessLoggedWithoutTheirQuery() async throws {
        let recorder = LogRecorder()
        try await TestServer.run(configure: { $0.accessLog = .info }, logger: recorder.logger(level: .info)) {
            server in
            let channel = try await server.createChannel(by: "alice")
            let token = try await server.token("alice")
            #expect(
                try await rawUpgradeRequest(port: server.port, headers: ["Authorization: Bearer bad"]).status
                    == 401)
            let socket = WebSocketProbe(port: server.port, token: token, tokenInQuery: true)
            try await socket.subscribe(channel)
            try await socket.close()
            let metrics = try await server.send(.get, "/metrics").text
            for series in [
                #"chatlog_http_requests_total{method="GET",route="/v1/ws",status="101"} 1"#,
                #"chatlog_http_requests_total{method="GET",route="/v1/ws",status="401"} 1"#,
                #"chatlog_http_requests_total{method="POST",route="/v1/channels",status="201"} 1"#,
            ] {
                #expect(metrics.contains(series), "\(series)")
            }
            let lines = recorder.lines.filter { $0.hasPrefix("request ") }
            let created = try #require(lines.first { $0.contains("path=/v1/channels ") }, "\(lines)")
            for field in ["method=POST", "status=201", "client=127.0.0.1", "requestId=", "ms="] {
                #expect(created.contains(field), "\(created)")
            }
            #expect(lines.contains { $0.contains("path=/v1/ws") && $0.contains("status=101") }, "\(lines)")
            #expect(lines.contains { $0.contains("path=/v1/ws") && $0.contains("status=401") }, "\(lines)")
            // The probe sends its token in the query; no line carries it.
            #expect(!recorder.lines.contains { $0.contains(token) })
        }
        // Off by default.
        let quiet = LogRecorder()
        try await TestServer.run(logger: quiet.logger(level: .trace)) { server in
            _ = try await server.createChannel(by: "alice")
        }
        #expect(!quiet.lines.contains { $0.hasPrefix("request ") })
    }

    @Test func operationsEndpointsNeedNoCredentials() async throws {
        try await TestServer.run { server in
            #expect(try await server.send(.get, "/v1/health").body["status"] as? String == "ok")
            #expect(try await server.send(.get, "/v1/ready").body["status"] as? String == "ready")
            let channel = try await server.createChannel(by: "alice")
            _ = try await server.send(
                .post, "/v1/channels/\(channel)/messages", as: "alice", json: ["text": "hi"])
            _ = try await server.send(.get, "/v1/nowhere", as: "alice")
            #expect(try await server.send(.put, "/v1/channels", as: "alice").status == .methodNotAllowed)
            let metrics = try await server.send(.get, "/metrics")
            #expect(metrics.status == .ok)
            #expect(
                metrics.text.contains(
                    "chatlog_http_requests_total{method=\"POST\",route=\"/v1/channels\",status=\"201\"} 1"))
            #expect(
                metrics.text.contains(
                    "chatlog_http_requests_total{method=\"POST\",route=\"/v1/channels/{channelId}/messages\",status=\"201\"} 1"
                ))
            #expect(
                metrics.text.contains(
                    "chatlog_http_requests_total{method=\"GET\",route=\"unmatched\",status=\"404\"} 1"))
            #expect(
                metrics.text.contains(
                    "chatlog_http_requests_total{method=\"PUT\",route=\"/v1/channels\",status=\"405\"} 1"))
            #expect(metrics.text.contains("chatlog_log_appended_records_total 2"))
            #expect(metrics.text.contains("chatlog_http_request_duration_seconds_bucket"))
            // Each group commit lands in the commit histograms: the two records each in its own.
            func value(_ series: String) -> Double? {
                metrics.text.split(separator: "\n").first { $0.hasPrefix(series + " ") }
                    .flatMap { Double($0.split(separator: " ").last ?? "") }
            }
            #expect(metrics.text.contains("# TYPE chatlog_log_commit_duration_seconds histogram"))
            #expect(value("chatlog_log_commit_records_sum") == 2)
            let commits = try #require(value("chatlog_log_commits_total"))
            #expect(commits >= 2)
            #expect(value("chatlog_log_commit_records_count") == commits)
            #expect(value("chatlog_log_commit_duration_seconds_count") == commits)
            #expect((value("chatlog_log_commit_duration_seconds_sum") ?? 0) > 0)
            let spec = try await server.send(.get, "/openapi.json")
            #expect(spec.body["openapi"] as? String == "3.1.0")
        }
    }

    @Test func metricsTellHowFullTheLogIsAndWhatTheProcessUses() async throws {
        try await TestServer.run { server in
            let channel = try await server.createChannel(by: "alice")
            _ = try await server.send(
                .post, "/v1/channels/\(channel)/messages", as: "alice", json: ["text": "hi"])
            let first = try await server.send(.get, "/metrics").text
            func value(_ series: String, in text: String = first) -> Double {
                text.split(separator: "\n").first { $0.hasPrefix(series + " ") }
                    .flatMap { Double($0.split(separator: " ").last ?? "") } ?? -1
            }
            #expect(value("chatlog_log_stream_records{stream=\"chat_events\"}") == 2)
            #expect(value("chatlog_log_stream_records{stream=\"triggers\"}") == 0)
            #expect(value("chatlog_log_stream_record_bytes{stream=\"chat_events\"}") > 0)
            let used = value("chatlog_log_map_used_bytes")
            #expect(used > 0)
            #expect(used <= value("chatlog_log_map_size_bytes"))
            #expect(value("chatlog_log_map_size_bytes") <= value("chatlog_log_map_max_bytes"))
            #expect(value("chatlog_log_file_size_bytes") > 0)
            #expect(value("chatlog_log_readers") >= 1)
            #expect(value("chatlog_log_readers") <= value("chatlog_log_max_readers"))
            // The standard process metrics, as Prometheus client libraries name them.
            #expect(first.contains("# TYPE process_cpu_seconds_total counter"))
            #expect(value("process_cpu_seconds_total") > 0)
            #expect(value("process_resident_memory_bytes") > Double(1 << 20))
            #expect(value("process_virtual_memory_bytes") >= value("process_resident_memory_bytes"))
            #expect(value("process_open_fds") > 0)
            #expect(value("process_open_fds") < value("process_max_fds"))
            #expect(value("process_threads") >= 1)
            let now = Date().timeIntervalSince1970
            #expect((now - 3600...now + 5).contains(value("process_start_time_seconds")))
            let second = try await server.send(.get, "/metrics").text
            #expect(value("process_cpu_seconds_total", in: second) >= value("process_cpu_seconds_total"))
        }
    }
}

extension Data {
    var base64URL: String {
        base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(
            of: "/", with: "_"
        )
        .replacingOccurrences(of: "=", with: "")
    }
}

@Suite(.timeLimit(.minutes(1))) struct HostileInputTests {
    @Test func impossibleIdentifiersAreNotFoundNeverServerErrors() async throws {
        try await TestServer.run { server in
            let long = String(repeating: "c", count: 600)
            expectError(
                try await server.send(.get, "/v1/channels/\(long)", as: "alice"), .notFound, "not_found")
            expectError(
                try await server.send(.get, "/v1/channels/\(long)/messages", as: "alice"), .notFound,
                "not_found")
            expectError(
                try await server.send(
                    .post, "/v1/users/alice/chat", as: "alice", json: ["message": "hi", "conversationId": ""]),
                .notFound, "not_found")
            let key = String(repeating: "k", count: 600)
            let channel = try await server.createChannel(by: "alice")
            let posted = try await server.send(
                .post, "/v1/channels/\(channel)/messages", as: "alice", json: ["text": "x"],
                headers: [HTTPField.Name("Idempotency-Key")!: key])
            // Too long to be part of a storage key: refused alone, never failing others' writes.
            expectError(posted, .badRequest, "invalid_request")
            // The log is intact and still takes writes.
            _ = try await server.post("after", in: channel, by: "alice")
            #expect(try server.storage.verify().isSound)
        }
    }
}
