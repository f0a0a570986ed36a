import Chat
import ChatServer
import ChatlogTestSupport
import Consumers
import EventLog
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Inbox
import LogBackends
import Logging
import Prometheus
import Testing

/// A response with its body parsed as JSON.
struct APIResponse {
    var status: HTTPResponse.Status
    var headers: HTTPFields
    var body: [String: Any]
    var text: String

    var errorCode: String? { (body["error"] as? [String: Any])?["code"] as? String }
    var errorMessage: String? { (body["error"] as? [String: Any])?["message"] as? String }
    subscript(key: String) -> [String: Any]? { body[key] as? [String: Any] }
}

/// The real server on an ephemeral port over a real log in a temporary directory, assembled as
/// `chatlog serve` assembles it.
struct TestServer {
    static let secret = "a-test-secret-that-is-long-enough-for-hs256"
    let client: any TestClientProtocol
    let dependencies: ChatServerDependencies
    let directory: String
    /// The port the server listens on.
    let port: Int

    var authority: TokenAuthority { dependencies.authority }
    var storage: any LogBackend { dependencies.storage }

    static func run(
        on backend: TestBackend = .lmdb,
        log: LogConfiguration = LogConfiguration(streams: ChatServer.streams),
        agent: Bool = false,
        directory: String? = nil,
        configure: (inout ServerConfiguration) -> Void = { _ in },
        logger: Logger = Logger(label: "test"),
        _ body: @Sendable (TestServer) async throws -> Void
    ) async throws {
        let log = try await log.on(backend)
        defer { log.removeStreams() }
        let temporary = try TemporaryDirectory()
        defer { temporary.remove() }
        let directory = directory ?? temporary.path
        var configuration = ServerConfiguration()
        configuration.port = 0
        configuration.auth.jwtSecret = secret
        // The test's own client holds one connection for the whole test, idle between its
        // requests for as long as a loaded machine takes; tests of the timeouts set their own.
        configuration.connections.idleTimeout = .seconds(600)
        configure(&configuration)
        let dependencies = try await ChatServerRunner(
            dataDirectory: directory, log: log, chat: ChatConfiguration(), server: configuration,
            registry: PrometheusCollectorRegistry(), logger: Logger(label: "test")
        ).makeDependencies()
        defer { dependencies.storage.close() }
        dependencies.readiness.set(true)
        let application = ChatServer.makeApplication(
            dependencies, configuration: configuration, logger: logger)
        let agentTask = agent ? Task { try await TestServer.agentRunner(dependencies).run() } : nil
        defer { agentTask?.cancel() }
        let delivery = ChatServer.makeDeliveryService(
            dependencies, configuration: configuration, logger: Logger(label: "delivery"))
        let deliveryTask = Task { try await delivery.run() }
        defer { deliveryTask.cancel() }
        let jwksTask = dependencies.jwksRefresher.map { refresher in Task { try await refresher.run() } }
        defer { jwksTask?.cancel() }
        try await application.test(.live) { client in
            // The client connects as the server starts; a first request at once keeps the
            // connection from meeting the header timeout however long the test takes to use it.
            // (A test of a header timeout shorter than a loaded machine's start may lose the
            // client here; such tests speak through connections of their own.)
            _ = try? await client.execute(uri: "/v1/health", method: .get)
            try await body(
                TestServer(
                    client: client, dependencies: dependencies, directory: directory, port: client.port!))
        }
        agentTask?.cancel()
        try await agentTask?.value
        deliveryTask.cancel()
        try await deliveryTask.value
    }

    /// The agent consumer group with the configured responder and quick retries.
    static func agentRunner(_ dependencies: ChatServerDependencies) -> ConsumerRunner {
        AgentConsumer.runner(
            storage: dependencies.storage, chat: dependencies.chat, responder: dependencies.responder,
            retry: RetryPolicy(
                maxAttempts: 2, initialBackoff: .milliseconds(1), maxBackoff: .milliseconds(2)),
            status: dependencies.agentStatus, control: dependencies.agentControl,
            logger: Logger(label: "agent"))
    }

    func token(_ user: String, ttl: Duration = .seconds(600)) async throws -> String {
        try await authority.mint(user: user, ttl: ttl)
    }

    /// Sends a request as `user` (minting a token) or with explicit headers.
    func send(
        _ method: HTTPRequest.Method, _ path: String, as user: String? = nil, json: Any? = nil,
        raw: String? = nil,
        headers extra: HTTPFields = [:]
    ) async throws -> APIResponse {
        var headers = extra
        if let user { headers[.authorization] = "Bearer \(try await token(user))" }
        var body: ByteBuffer?
        if let json {
            body = ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: json))
            if headers[.contentType] == nil { headers[.contentType] = "application/json" }
        } else if let raw {
            body = ByteBuffer(string: raw)
        }
        let response = try await client.execute(uri: path, method: method, headers: headers, body: body)
        let text = String(buffer: response.body)
        let parsed = (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] ?? [:]
        return APIResponse(status: response.status, headers: response.headers, body: parsed, text: text)
    }

    /// Creates a channel and returns its id.
    func createChannel(by user: String, members: [String] = [], agent: Bool = false) async throws -> String {
        let response = try await send(
            .post, "/v1/channels", as: user, json: ["name": "room", "members": members, "agent": agent])
        #expect(response.status == .created)
        return try #require(response["channel"]?["id"] as? String)
    }

    /// Posts a message and returns its body.
    func post(_ text: String, in channel: String, by user: String) async throws -> [String: Any] {
        let response = try await send(
            .post, "/v1/channels/\(channel)/messages", as: user, json: ["text": text])
        #expect(response.status == .created, "\(response.text)")
        return try #require(response["message"])
    }
}

/// Checks the contract's error envelope and returns the code.
@discardableResult
func expectError(_ response: APIResponse, _ status: HTTPResponse.Status, _ code: String) -> APIResponse {
    #expect(response.status == status, "\(response.text)")
    #expect(response.errorCode == code, "\(response.text)")
    let error = response.body["error"] as? [String: Any]
    #expect(error?["details"] is [String: Any])
    #expect((error?["requestId"] as? String) == response.headers[HTTPField.Name("X-Request-ID")!])
    return response
}
