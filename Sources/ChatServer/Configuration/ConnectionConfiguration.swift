/// Limits on connections, so that no client can hold the server's sockets or file descriptors:
/// how many at once, how many from one address, and how long each part of a request may take.
public struct ConnectionConfiguration: Sendable {
    /// Connections open at once; past it a new connection gets 503 `overloaded` and is closed.
    public var maxConnections = 10_000
    /// Connections open at once from one client address.
    public var maxPerAddress = 256
    /// From a connection's start to its first complete request head.
    public var headerTimeout: Duration = .seconds(10)
    /// From a request's head to the end of its body.
    public var bodyTimeout: Duration = .seconds(30)
    /// A kept-alive connection between requests.
    public var idleTimeout: Duration = .seconds(30)

    public init() {}
}
