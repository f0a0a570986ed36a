/// A JetStream stream's settings, as chatlog creates it: limits retention, file storage.
public struct StreamSpec: Sendable, Equatable {
    public var name: String
    public var subjects: [String]
    /// How many servers hold a copy (1, 3 or 5).
    public var replicas: Int
    /// How long a `Nats-Msg-Id` is remembered for deduplication.
    public var duplicateWindow: Duration
    /// Messages older than this are removed; nil keeps them.
    public var maxAge: Duration?
    /// Oldest messages are removed past this many bytes; nil keeps them.
    public var maxBytes: Int?

    public init(
        name: String, subjects: [String], replicas: Int, duplicateWindow: Duration, maxAge: Duration? = nil,
        maxBytes: Int? = nil
    ) {
        self.name = name
        self.subjects = subjects
        self.replicas = replicas
        self.duplicateWindow = duplicateWindow
        self.maxAge = maxAge
        self.maxBytes = maxBytes
    }
}

/// A stream's state as its leader reports it.
public struct StreamState: Sendable, Equatable {
    public var messages: UInt64
    public var bytes: UInt64
    /// The first stored sequence number; `lastSequence + 1` when empty.
    public var firstSequence: UInt64
    public var lastSequence: UInt64
    /// The settings the stream has now.
    public var spec: StreamSpec
    /// The server that leads the stream's replicas, if the cluster named one.
    public var leader: String?
}

extension Duration {
    /// Whole nanoseconds, as the JetStream API counts them.
    var nanoseconds: Int64 {
        components.seconds * 1_000_000_000 + components.attoseconds / 1_000_000_000
    }
}
