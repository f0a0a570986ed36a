import Foundation
import HTTPTypes
import Testing

/// Browser apps on the configured origins may call the API; other origins, and every origin
/// when none is configured, get nothing that lets a browser read an answer.
@Suite(.timeLimit(.minutes(1))) struct CORSTests {
    private let app = "https://app.example.com"

    private func preflight(_ server: TestServer, origin: String, method: String = "POST") async throws
        -> APIResponse
    {
        try await server.send(
            .options, "/v1/channels",
            headers: [
                .origin: origin, .accessControlRequestMethod: method,
                .accessControlRequestHeaders: "authorization, content-type",
            ])
    }

    @Test func anAllowedOriginsPreflightIsAnsweredAndItsAnswersCarryTheOrigin() async throws {
        try await TestServer.run(configure: { $0.corsAllowedOrigins = [app] }) { server in
            let answered = try await preflight(server, origin: app)
            #expect(answered.status == .noContent)
            #expect(answered.headers[.accessControlAllowOrigin] == app)
            #expect(answered.headers[.accessControlAllowMethods]?.contains("POST") == true)
            let allowedHeaders = answered.headers[.accessControlAllowHeaders]?.lowercased() ?? ""
            #expect(allowedHeaders.contains("authorization") && allowedHeaders.contains("content-type"))
            #expect(answered.headers[values: .vary].contains("Origin"))

            // Answers, errors included, can be read by the app.
            let created = try await server.send(
                .post, "/v1/channels", as: "alice", json: ["name": "general"], headers: [.origin: app])
            #expect(created.status == .created)
            #expect(created.headers[.accessControlAllowOrigin] == app)
            #expect(created.headers[.accessControlExposeHeaders]?.contains("X-Request-ID") == true)
            let refused = try await server.send(.get, "/v1/channels", headers: [.origin: app])
            #expect(refused.status == .unauthorized)
            #expect(refused.headers[.accessControlAllowOrigin] == app)

            // Another origin: its preflight is refused, and answers carry nothing for it.
            let other = try await preflight(server, origin: "https://evil.example")
            #expect(other.status == .forbidden && other.errorCode == "forbidden")
            #expect(other.headers[.accessControlAllowOrigin] == nil)
            let read = try await server.send(
                .get, "/v1/channels", as: "alice", headers: [.origin: "https://evil.example"])
            #expect(read.status == .ok && read.headers[.accessControlAllowOrigin] == nil)
        }
    }

    @Test func noOriginIsAllowedUnlessConfigured() async throws {
        try await TestServer.run { server in
            let answered = try await preflight(server, origin: app)
            #expect(answered.status == .methodNotAllowed)
            #expect(answered.headers[.accessControlAllowOrigin] == nil)
            let read = try await server.send(.get, "/v1/channels", as: "alice", headers: [.origin: app])
            #expect(read.status == .ok && read.headers[.accessControlAllowOrigin] == nil)
        }
    }

    @Test func aWildcardAllowsEveryOrigin() async throws {
        try await TestServer.run(configure: { $0.corsAllowedOrigins = ["*"] }) { server in
            let answered = try await preflight(server, origin: "http://localhost:5173", method: "DELETE")
            #expect(answered.status == .noContent)
            #expect(answered.headers[.accessControlAllowOrigin] == "http://localhost:5173")
        }
    }
}
