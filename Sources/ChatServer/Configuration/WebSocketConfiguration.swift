import Chat

/// How the WebSocket endpoint runs.
public struct WebSocketConfiguration: Sendable {
    /// The server pings every interval; a client that has not answered the previous ping by
    /// then is closed (the idle timeout).
    public var pingInterval: Duration = .seconds(30)
    /// How long a close frame may take to leave before the socket is cut.
    public var closeTimeout: Duration = .seconds(5)
    /// The largest frame a client may send.
    public var maxFrameSize = 64 << 10
    /// Queue bounds and resume paging.
    public var delivery = DeliveryConfiguration()

    public init() {}
}
