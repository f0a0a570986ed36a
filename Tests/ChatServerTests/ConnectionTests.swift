import ChatServer
import ChatlogTestSupport
import Foundation
import Testing

/// What an unauthenticated client can do with raw connections: malformed requests, slow or
/// idle ones, and too many of them. Each gets a clean answer and a closed connection, and the
/// server keeps serving.
@Suite(.timeLimit(.minutes(1))) struct ConnectionTests {
    private static func quick(_ configuration: inout ServerConfiguration) {
        configuration.connections.headerTimeout = .seconds(1)
        configuration.connections.bodyTimeout = .seconds(1)
        configuration.connections.idleTimeout = .seconds(1)
    }

    @Test func everyMalformedRequestIsA400AndAClosedConnection() async throws {
        try await TestServer.run { server in
            let token = try await server.token("alice")
            let post =
                "POST /v1/channels HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \(token)\r\n"
                + "Content-Type: application/json\r\n"
            let cases: [(String, String)] = [
                ("garbage request line", "GARBAGE\u{1}\u{2} / NOPE\r\n\r\n"),
                (
                    "two Content-Lengths",
                    post + "Content-Length: 12\r\nContent-Length: 13\r\n\r\n{\"name\":\"a\"}"
                ),
                (
                    "Content-Length with chunked",
                    post + "Content-Length: 12\r\nTransfer-Encoding: chunked\r\n\r\n{\"name\":\"a\"}"
                ),
                (
                    "a bad chunk size",
                    post + "Transfer-Encoding: chunked\r\n\r\nzz\r\n{\"name\":\"a\"}\r\n0\r\n\r\n"
                ),
                (
                    "a 200 KB header",
                    "GET /v1/health HTTP/1.1\r\nX-Big: " + String(repeating: "a", count: 200_000) + "\r\n\r\n"
                ),
                (
                    "1000 headers",
                    "GET /v1/health HTTP/1.1\r\n" + (0..<1000).map { "X-H\($0): v\r\n" }.joined() + "\r\n"
                ),
            ]
            for (name, request) in cases {
                let connection = try RawConnection(port: server.port)
                connection.send(request)
                let response = try await connection.readToClose(timeout: .seconds(10))
                #expect(response.hasPrefix("HTTP/1.1 400"), "\(name): \(response.prefix(200))")
                #expect(response.contains("\"code\":\"invalid_request\""), "\(name): \(response.prefix(400))")
                #expect(
                    response.contains("Connection: close") || response.contains("connection: close"),
                    "\(name)")
            }
            // Nothing of them was written, and the server still serves.
            let channels = try await server.send(.get, "/v1/channels", as: "alice")
            #expect(channels.status == .ok)
            #expect((channels.body["channels"] as? [Any])?.isEmpty == true)
        }
    }

    @Test func slowAndIdleConnectionsAreClosedWithinTheirTimeouts() async throws {
        try await TestServer.run(configure: Self.quick) { server in
            // Nothing sent at all, or a head a byte at a time that never ends: 408, closed.
            let silent = try RawConnection(port: server.port)
            let slowHead = try RawConnection(port: server.port)
            slowHead.send("GET /v1/health HTTP/1.1\r\nHo")
            for connection in [silent, slowHead] {
                let response = try await connection.readToClose(timeout: .seconds(10))
                #expect(response.hasPrefix("HTTP/1.1 408"), "\(response.prefix(200))")
                #expect(response.contains("\"code\":\"request_timeout\""))
            }
            // A body that stops coming: 408 as well.
            let slowBody = try RawConnection(port: server.port)
            slowBody.send(
                "POST /v1/channels HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \(try await server.token("alice"))\r\n"
                    + "Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"name\"")
            let response = try await slowBody.readToClose(timeout: .seconds(10))
            #expect(response.hasPrefix("HTTP/1.1 408"), "\(response.prefix(200))")
            // A kept-alive connection is answered, then closed once idle, with no second answer.
            let keptAlive = try RawConnection(port: server.port)
            keptAlive.send("GET /v1/health HTTP/1.1\r\nHost: x\r\n\r\n")
            let answered = try await keptAlive.readToClose(timeout: .seconds(10))
            #expect(answered.hasPrefix("HTTP/1.1 200"))
            #expect(answered.components(separatedBy: "HTTP/1.1").count == 2)
        }
    }

    @Test func connectionsPastTheLimitsAre503AndCountedWhileTheOthersKeepWorking() async throws {
        try await TestServer.run(configure: { configuration in
            configuration.connections.maxConnections = 10
            configuration.connections.maxPerAddress = 4
        }) { server in
            // One address fills its share; its next connection is refused, with a clean answer.
            // (Each connection is answered before the next opens: accepts race across loops.)
            var held: [RawConnection] = []
            for _ in 0..<4 {
                let connection = try RawConnection(port: server.port, source: "127.0.0.2")
                connection.send("GET /v1/health HTTP/1.1\r\nHost: x\r\n\r\n")
                #expect(try await connection.readResponse(timeout: .seconds(10)).hasPrefix("HTTP/1.1 200"))
                held.append(connection)
            }
            let perAddress = try await RawConnection(port: server.port, source: "127.0.0.2").readToClose(
                timeout: .seconds(10))
            #expect(perAddress.hasPrefix("HTTP/1.1 503"), "\(perAddress.prefix(200))")
            #expect(perAddress.contains("\"code\":\"overloaded\""))
            #expect(perAddress.lowercased().contains("retry-after: 1"))
            // Another address is still served.
            let other = try RawConnection(port: server.port, source: "127.0.0.3")
            other.send("GET /v1/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            let health = try await other.readToClose(timeout: .seconds(10))
            #expect(health.hasPrefix("HTTP/1.1 200"), "\(health.prefix(200))")
            // Connections from many addresses fill the server; then every address is refused.
            // Each asks for /v1/health and stays open: 200 while there is room, then 503.
            var total: String?
            for host in 1..<50 where total == nil {
                let connection = try RawConnection(port: server.port, source: "127.0.1.\(host)")
                connection.send("GET /v1/health HTTP/1.1\r\nHost: x\r\n\r\n")
                let response = try await connection.readResponse(timeout: .seconds(10))
                if response.hasPrefix("HTTP/1.1 200") {
                    held.append(connection)
                } else {
                    total = response
                }
            }
            let refused = try #require(total)
            #expect(refused.hasPrefix("HTTP/1.1 503"), "\(refused.prefix(200))")
            #expect(refused.contains("\"code\":\"overloaded\""))
            #expect(held.count >= 5)
            held.removeAll()
            // Once they close, connections are taken again; the refusals are in /metrics.
            try await eventually("a slot is free again") {
                (try? await server.send(.get, "/v1/health").status) == .ok
            }
            let metrics = try await server.send(.get, "/metrics").text
            #expect(metrics.contains(#"chatlog_http_connections_refused_total{reason="per_address"} 1"#))
            let totalRefusals = metrics.split(separator: "\n")
                .first { $0.hasPrefix(#"chatlog_http_connections_refused_total{reason="total"}"#) }
                .flatMap { $0.split(separator: " ").last }.flatMap { Int($0) }
            #expect((totalRefusals ?? 0) >= 1, "\(metrics)")
        }
    }

    @Test func aFloodOfConnectionsPastTheLimitIsRefusedWhileSubscribersKeepGettingMessages() async throws {
        let limit = 200
        try await TestServer.run(configure: { configuration in
            configuration.connections.maxConnections = limit
            configuration.connections.maxPerAddress = limit
        }) { server in
            let channel = try await server.createChannel(by: "alice")
            let subscriber = WebSocketProbe(port: server.port, token: try await server.token("alice"))
            try await subscriber.subscribe(channel)
            // Up to the limit and 100 past it: the server serves and holds what it takes, and
            // answers the rest 503 at once.
            var held: [RawConnection] = []
            var refused = 0
            var other: [String] = []
            for _ in 0..<(limit + 100) {
                let connection = try RawConnection(port: server.port)
                connection.send("GET /v1/health HTTP/1.1\r\nHost: x\r\n\r\n")
                let answer = try await connection.readResponse(timeout: .seconds(10))
                if answer.hasPrefix("HTTP/1.1 200") {
                    held.append(connection)
                } else if answer.hasPrefix("HTTP/1.1 503"), answer.contains("\"code\":\"overloaded\"") {
                    refused += 1
                } else {
                    other.append(String(answer.prefix(100)))
                }
            }
            #expect(other.isEmpty, "\(other)")
            // The subscriber and the test's own client hold a few of the places.
            #expect(refused >= 100 && refused <= 105, "\(refused) refused, \(held.count) held")
            #expect(held.count + refused == limit + 100)
            // The subscriber, connected before the flood, still gets what is posted.
            held.removeAll()
            try await eventually("the server takes requests again") {
                (try? await server.send(.get, "/v1/health").status) == .ok
            }
            _ = try await server.post("through the flood", in: channel, by: "alice")
            let frame = try await subscriber.next()
            #expect((frame["message"] as? [String: Any])?["text"] as? String == "through the flood")
            try await subscriber.close()
        }
    }
}
