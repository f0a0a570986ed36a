import EventLog
import EventLogJetStream
import Foundation
import LogBackends

extension LogConfiguration {
    /// Two streams of four shards, named as chatlog's: what a test log has unless told otherwise.
    public static var twoStreams: LogConfiguration {
        LogConfiguration(
            streams: ["chat_events", "triggers"].map { StreamConfiguration(name: $0, shardCount: 4) })
    }
}

/// The backends the behaviour suites run on.
public enum TestBackend: String, CaseIterable, Sendable, CustomStringConvertible {
    case lmdb
    case jetStream

    public var description: String { rawValue }
}

extension LogConfiguration {
    /// This configuration on `backend`. On JetStream: the tests' shared cluster, with streams
    /// under a prefix of their own, applied; call `removeStreams` on the result when done.
    public func on(_ backend: TestBackend) async throws -> LogConfiguration {
        guard backend == .jetStream else { return self }
        var settings = JetStreamSettings(servers: try await NATSCluster.shared().urls)
        settings.prefix =
            "t" + UUID().uuidString.prefix(12).lowercased().replacingOccurrences(of: "-", with: "")
        var configuration = self
        configuration.backend = .jetStream(settings)
        // Every shard is a 3-server stream: on two cores, dozens of tests at once each making
        // eight would starve the rest of the suite. Two per stream still spread channels.
        for index in configuration.streams.indices {
            configuration.streams[index].shardCount = min(configuration.streams[index].shardCount, 2)
        }
        _ = try JetStreamStorage.apply(configuration: configuration, settings: settings)
        return configuration
    }

    /// Deletes a JetStream configuration's streams (nothing on LMDB).
    public func removeStreams() {
        if case .jetStream(let settings) = backend {
            _ = try? JetStreamStorage.removeStreams(configuration: self, settings: settings)
        }
    }
}

/// Opens a log in a new temporary directory, runs `body`, then closes and removes it.
public func withLog<R>(
    on backend: TestBackend = .lmdb, configuration: LogConfiguration = .twoStreams,
    clock: any LogClock = SystemLogClock(), projections: [any Projection] = [], stateTables: [String] = [],
    _ body: (any LogBackend, TemporaryDirectory) async throws -> R
) async throws -> R {
    let configuration = try await configuration.on(backend)
    defer { configuration.removeStreams() }
    return try await TemporaryDirectory.with { directory in
        let storage = try LogBackends.open(
            directory: directory.path, configuration: configuration, projections: projections,
            stateTables: stateTables, clock: clock)
        defer { storage.close() }
        return try await body(storage, directory)
    }
}
