import Chat
import Logging

/// How the HTTP server runs; every field has a working default.
public struct ServerConfiguration: Sendable {
    public var host = "127.0.0.1"
    public var port = 8080
    /// The largest request body accepted (400 KiB).
    public var maxBodyBytes = 409_600
    /// Origins (`https://app.example.com`, or `*` for any) whose browser apps may call the API.
    public var corsAllowedOrigins: [String] = []
    /// The level of the access log's line per request (and WebSocket upgrade); nil for none.
    public var accessLog: Logger.Level?
    public var auth = AuthConfiguration()
    public var rateLimit = RateLimitConfiguration()
    /// How often retention runs.
    public var retentionInterval: Duration = .seconds(60)
    /// How long `POST /v1/users/{userId}/chat` waits for the agent's reply.
    public var agentReplyTimeout: Duration = .seconds(10)
    public var agent = AgentConfiguration()
    public var webSocket = WebSocketConfiguration()
    public var connections = ConnectionConfiguration()
    /// Development mode (`serve --dev`, never a configuration key): the console offers a token
    /// for any user name. Off unless asked for.
    public var development = false

    public init() {}
}

/// How requests prove who they are.
public struct AuthConfiguration: Sendable {
    /// The HS256 secret (at least 32 bytes). When nil the server uses the one it generated
    /// and stored in the data directory.
    public var jwtSecret: String?
    /// PEM of an RS256 or ES256 public key whose tokens carry `kid` = `publicKeyID`.
    public var publicKeyPEM: String?
    public var publicKeyID = "public"
    /// An identity provider's signing keys, from its JWKS document.
    public var jwks: JWKSConfiguration?
    /// How far an issuer's clock may be from the server's: `exp`, `nbf` and `iat` allow it.
    public var clockLeeway: Duration = .seconds(30)

    public init() {}
}

/// A per-caller token bucket: `requestsPerSecond` sustained, `burst` at once.
public struct RateLimitConfiguration: Sendable {
    public var enabled = true
    public var requestsPerSecond = 1000.0
    public var burst = 2000.0
    /// Per client address: failed authentications (of any kind, upgrades included).
    public var failedAuthenticationsPerSecond = 1.0
    public var failedAuthenticationBurst = 20.0
    /// Per client address: WebSocket upgrades.
    public var upgradesPerSecond = 20.0
    public var upgradeBurst = 100.0

    public init() {}
}

/// Which responder the agent uses, and how hard it tries.
public struct AgentConfiguration: Sendable {
    /// nil: the built-in deterministic responder.
    public var openAI: OpenAIResponder.Configuration?
    /// Attempts per message before it is dead-lettered and the channel gets `agent.failed`.
    public var maxAttempts = 5

    public init() {}

    /// The responder this configuration names: the one place it is built.
    public func makeResponder() -> any Responder {
        openAI.map { OpenAIResponder(configuration: $0) } ?? BuiltInResponder()
    }
}
