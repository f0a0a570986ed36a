import Chat

/// How WebSocket delivery bounds each connection.
public struct DeliveryConfiguration: Sendable {
    /// Live frames a connection may have queued before it is closed as a slow consumer.
    public var maxQueuedFrames = 1000
    /// Bytes of queued live frames past which the connection is closed as a slow consumer.
    public var maxQueuedBytes = 4 << 20
    /// Records read from the log per step of a resume.
    public var replayPageSize = 100
    /// Channels one connection may subscribe to.
    public var maxSubscriptions = 1000

    public init() {}
}
