import Hummingbird
import NIOCore

/// The per-request context: the request id and, once authenticated, the caller.
public struct ChatRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The client's `X-Request-ID`, or a new lowercase UUID.
    public var requestID = ""
    /// The authenticated user (the JWT's `sub`).
    public var user: String?
    /// The authenticated API key's id.
    public var apiKeyID: String?

    /// The client's IP address, which unauthenticated limits go by.
    public var clientAddress: String

    public init(source: Source) {
        coreContext = .init(source: source)
        clientAddress = source.channel.clientAddress
    }

    /// Bodies above the contract's 400 KiB are refused with 413 while being read.
    public var maxUploadSize: Int { 409_600 }

    /// The authenticated user, or 401.
    public func requireUser() throws -> String {
        guard let user else { throw APIError.unauthorized("a bearer token is required") }
        return user
    }
}

extension Channel {
    /// The peer's IP address, which per-address limits go by.
    var clientAddress: String { remoteAddress?.ipAddress ?? "unknown" }
}
