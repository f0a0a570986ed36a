import EventLog
import NATS

/// What the JetStream streams of a log must be, and what it takes to get there: streams are
/// declared by the configuration and made by `chatlog cluster apply`, never as a side effect
/// of serving. `serve` checks them and refuses to start while they differ.
public struct StreamChange: Sendable, Equatable, CustomStringConvertible {
    public enum Action: String, Sendable {
        case create
        case update
        case keep
    }

    public var stream: String
    public var action: Action
    /// For an update: each setting that differs, as `name: now -> wanted`.
    public var differences: [String]

    public var description: String {
        switch action {
        case .create: "\(stream): create"
        case .update: "\(stream): update (\(differences.joined(separator: ", ")))"
        case .keep: "\(stream): as configured"
        }
    }
}

extension JetStreamStorage {
    /// Every stream the configuration declares, and how each stands on the cluster.
    public static func plan(configuration: LogConfiguration, settings: JetStreamSettings) throws
        -> [StreamChange]
    {
        let connection = try connect(settings)
        defer { connection.close() }
        return try specs(configuration, settings).map { spec in
            try change(for: spec, current: connection.streamState(spec.name))
        }
    }

    /// Creates and updates the streams so that they are as configured; returns what it did.
    public static func apply(configuration: LogConfiguration, settings: JetStreamSettings) throws
        -> [StreamChange]
    {
        let connection = try connect(settings)
        defer { connection.close() }
        return try specs(configuration, settings).map { spec in
            let change = try change(for: spec, current: connection.streamState(spec.name))
            if change.action != .keep { try connection.ensureStream(spec) }
            return change
        }
    }

    static func connect(_ settings: JetStreamSettings) throws -> NATSConnection {
        do {
            return try NATSConnection(servers: settings.servers, name: "chatlog", timeout: settings.timeout)
        } catch {
            throw EventLogError.storage(
                "cannot reach the JetStream cluster at \(settings.servers.joined(separator: ",")): \(error)")
        }
    }

    /// The streams the configuration declares, one per shard.
    static func specs(_ configuration: LogConfiguration, _ settings: JetStreamSettings) -> [StreamSpec] {
        let layout = JetStreamLayout(prefix: settings.prefix)
        return configuration.streams.flatMap { stream in
            (0..<stream.shardCount).map { index in
                let shard = ShardKey(stream: stream.name, shard: ShardID(index))
                return StreamSpec(
                    name: layout.streamName(shard), subjects: [layout.subject(shard)],
                    replicas: settings.replicas,
                    // JetStream refuses a window longer than the streams keep messages.
                    duplicateWindow: min(
                        settings.duplicateWindow, stream.retention.maxAge ?? settings.duplicateWindow),
                    maxAge: stream.retention.maxAge,
                    maxBytes: stream.retention.maxBytesPerShard)
            }
        }
    }

    static func change(for wanted: StreamSpec, current: StreamState?) -> StreamChange {
        guard let current else { return StreamChange(stream: wanted.name, action: .create, differences: []) }
        let now = current.spec
        var differences: [String] = []
        func compare<T: Equatable>(_ name: String, _ have: T, _ want: T) {
            if have != want { differences.append("\(name): \(have) -> \(want)") }
        }
        compare("subjects", now.subjects, wanted.subjects)
        compare("replicas", now.replicas, wanted.replicas)
        compare("duplicateWindow", now.duplicateWindow, wanted.duplicateWindow)
        compare("maxAge", now.maxAge.map { "\($0)" } ?? "none", wanted.maxAge.map { "\($0)" } ?? "none")
        compare("maxBytes", now.maxBytes.map { "\($0)" } ?? "none", wanted.maxBytes.map { "\($0)" } ?? "none")
        return StreamChange(
            stream: wanted.name, action: differences.isEmpty ? .keep : .update, differences: differences)
    }
}
