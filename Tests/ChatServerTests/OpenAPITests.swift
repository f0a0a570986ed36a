import ChatServer
import Foundation
import Hummingbird
import Testing

@Suite(.timeLimit(.minutes(1))) struct OpenAPITests {
    @Test func theSpecAndTheRegisteredRoutesAgreeBothWays() async throws {
        try await TestServer.run { server in
            let response = try await server.send(.get, "/openapi.json")
            let paths = try #require(response.body["paths"] as? [String: [String: Any]])
            var documented = Set<String>()
            for (path, operations) in paths {
                for method in operations.keys where method != "parameters" {
                    documented.insert("\(method.uppercased()) \(path)")
                }
            }
            let router = ChatServer.makeRouter(server.dependencies, configuration: .init())
            let registered = Set(router.routes.map { "\($0.method) \($0.path)" })
            #expect(
                registered.subtracting(documented).isEmpty,
                "undocumented: \(registered.subtracting(documented))")
            #expect(
                documented.subtracting(registered).isEmpty,
                "not served: \(documented.subtracting(registered))")
            #expect(registered.count >= 15)
        }
    }
}
