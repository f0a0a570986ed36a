import Foundation
import HTTPTypes
import Testing

/// The console's routes over HTTP; what its pages do is tested in a browser (tests/console).
@Suite(.timeLimit(.minutes(1))) struct ConsoleTests {
    @Test func thePagesCarryAStrictPolicyAndNoDevelopmentTokenUnlessAskedFor() async throws {
        try await TestServer.run { server in
            let root = try await server.send(.get, "/")
            #expect(root.status == .found && root.headers[.location] == "/console")
            for path in [
                "/console", "/console/app.js", "/console/common.js", "/console/ops.js",
                "/console/console.css",
            ] {
                let page = try await server.send(.get, path)
                #expect(page.status == .ok, "\(path)")
                let policy = try #require(page.headers[.contentSecurityPolicy], "\(path)")
                #expect(policy.contains("script-src 'self'") && policy.contains("frame-ancestors 'none'"))
                #expect(!policy.contains("unsafe-inline"))
            }
            expectError(try await server.send(.get, "/console/secrets.txt"), .notFound, "not_found")
            #expect(try await server.send(.get, "/console/config.json").body["dev"] as? Bool == false)
            // Without --dev the route does not exist.
            expectError(
                try await server.send(.post, "/v1/dev/token", json: ["userId": "alice"]), .notFound,
                "not_found")
        }
    }

    @Test func developmentModeMintsATokenForAValidUserName() async throws {
        try await TestServer.run(configure: { $0.development = true }) { server in
            #expect(try await server.send(.get, "/console/config.json").body["dev"] as? Bool == true)
            let minted = try await server.send(.post, "/v1/dev/token", json: ["userId": "alice"])
            let token = try #require(minted.body["token"] as? String, "\(minted.text)")
            let channels = try await server.send(
                .get, "/v1/channels", headers: [.authorization: "Bearer \(token)"])
            #expect(channels.status == .ok)
            expectError(
                try await server.send(.post, "/v1/dev/token", json: ["userId": "agent"]), .badRequest,
                "invalid_request")
            expectError(
                try await server.send(.post, "/v1/dev/token", json: ["userId": ""]), .badRequest,
                "invalid_request")
            expectError(
                try await server.send(.post, "/v1/dev/token", json: ["user": "alice"]), .badRequest,
                "invalid_request")
        }
    }
}
