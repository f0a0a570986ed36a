/// How the log is stored and kept; every field has a working default.
public struct LogConfiguration: Sendable {
    /// When an append is acknowledged.
    public enum Durability: Sendable, Equatable {
        /// Each commit is synced to disk before any append in it is acknowledged.
        case strict
        /// Commits are synced every `syncInterval`; a machine crash (not a process crash)
        /// may lose what was acknowledged in the last interval.
        case relaxed(syncInterval: Duration)
    }

    /// Where the log is kept.
    public enum Backend: Sendable, Equatable {
        /// In the data directory: one node.
        case lmdb
        /// On a NATS JetStream cluster, shared by every node; each node keeps a replica of the
        /// log and its read models in its data directory.
        case jetStream(JetStreamSettings)
    }

    public var backend: Backend = .lmdb
    public var durability: Durability = .strict
    /// The map starts at this size and doubles when full.
    public var initialMapSize: Int = 256 << 20
    /// The map never grows past this; appends then fail with `storageFull`.
    public var maxMapSize: Int = 1 << 40
    /// The largest payload one record may carry.
    public var maxPayloadBytes: Int = 1 << 20
    /// The most appends one group commit takes.
    public var maxBatchSize: Int = 4096
    /// How long a shard iterator stays valid.
    public var iteratorLifetime: Duration = .seconds(15 * 60)
    /// The streams the log holds; the modules that write them say which (chat, the inbox).
    public var streams: [StreamConfiguration]

    public init(streams: [StreamConfiguration] = []) {
        self.streams = streams
    }

    public func stream(_ name: StreamName) -> StreamConfiguration? {
        streams.first { $0.name == name }
    }
}

/// One stream's settings.
public struct StreamConfiguration: Sendable, Equatable {
    public var name: StreamName
    /// Fixed when the stream is created; a later change is ignored with a warning.
    public var shardCount: Int
    public var retention: Retention

    public init(name: StreamName, shardCount: Int, retention: Retention = Retention()) {
        self.name = name
        self.shardCount = shardCount
        self.retention = retention
    }
}

/// How long a stream keeps records. Nil limits keep everything.
public struct Retention: Sendable, Equatable {
    /// Records older than this are trimmed.
    public var maxAge: Duration?
    /// Oldest records are trimmed while a shard holds more than this many bytes.
    public var maxBytesPerShard: Int?
    /// Trim even records a consumer group has not checkpointed past.
    public var trimUnprocessed: Bool

    public init(maxAge: Duration? = nil, maxBytesPerShard: Int? = nil, trimUnprocessed: Bool = false) {
        self.maxAge = maxAge
        self.maxBytesPerShard = maxBytesPerShard
        self.trimUnprocessed = trimUnprocessed
    }

    public var keepsEverything: Bool { maxAge == nil && maxBytesPerShard == nil }
}

/// How to reach the JetStream cluster and how its streams are made.
public struct JetStreamSettings: Sendable, Equatable {
    /// `nats://host:port` of the cluster's servers; any reachable one will do.
    public var servers: [String]
    /// Copies of each stream (3 on a 3-node cluster): an append is acknowledged once a
    /// majority of them hold it.
    public var replicas: Int = 3
    /// The first token of every subject and stream name, so several deployments can share
    /// a cluster.
    public var prefix = "chatlog"
    /// How long an API call or a publish waits for the cluster's answer.
    public var timeout: Duration = .seconds(5)
    /// How many publishes one node has waiting for JetStream's answer at once (each on a
    /// thread of its own: the C client's publish blocks).
    public var publishConcurrency = 64
    /// How long JetStream remembers an idempotency key (`Nats-Msg-Id`) across nodes.
    public var duplicateWindow: Duration = .seconds(24 * 3600)
    /// The consumer groups the nodes share, each through one durable JetStream consumer per
    /// shard: every record goes to one node. The other groups run on every node.
    public var sharedGroups: Set<String> = []
    /// How long a node may hold a shared group's records without word before they go to
    /// another node.
    public var claimLifetime: Duration = .seconds(30)

    public init(servers: [String]) {
        self.servers = servers
    }
}
