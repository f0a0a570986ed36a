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
        let servers = try await NATSCluster.shared().urls
        await JetStreamSlots.shared.acquire()
        var settings = JetStreamSettings(servers: servers)
        // As `chatlog serve` does: the nodes share chatlog's agent group.
        settings.sharedGroups = ["agent"]
        settings.prefix =
            "t" + UUID().uuidString.prefix(12).lowercased().replacingOccurrences(of: "-", with: "")
        var configuration = self
        configuration.backend = .jetStream(settings)
        // Every shard is a 3-server stream: on two cores, dozens of tests at once each making
        // eight would starve the rest of the suite. Two per stream still spread channels.
        for index in configuration.streams.indices {
            configuration.streams[index].shardCount = min(configuration.streams[index].shardCount, 2)
        }
        do {
            _ = try JetStreamStorage.apply(configuration: configuration, settings: settings)
        } catch {
            await JetStreamSlots.shared.release()
            throw error
        }
        return configuration
    }

    /// This configuration with the nodes sharing `groups` (on JetStream; nothing changes on
    /// LMDB), each node keeping a claim at most `claimLifetime` without word.
    public func sharing(_ groups: Set<String>, claimLifetime: Duration = .seconds(30)) -> LogConfiguration {
        guard case .jetStream(var settings) = backend else { return self }
        settings.sharedGroups = groups
        settings.claimLifetime = claimLifetime
        var configuration = self
        configuration.backend = .jetStream(settings)
        return configuration
    }

    /// Deletes a JetStream configuration's streams and gives its slot back (nothing on LMDB).
    public func removeStreams() {
        if case .jetStream(let settings) = backend {
            _ = try? JetStreamStorage.removeStreams(configuration: self, settings: settings)
            Task { await JetStreamSlots.shared.release() }
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

/// Opens two nodes over one JetStream log, `configuration` made `on(.jetStream)` with
/// `adjust` applied, each node with a replica directory of its own; runs `body`, then closes
/// both and removes the streams.
public func withTwoNodes(
    _ configuration: LogConfiguration, adjust: (LogConfiguration) -> LogConfiguration = { $0 },
    _ body: (any LogBackend, any LogBackend) async throws -> Void
) async throws {
    let applied = try await configuration.on(.jetStream)
    defer { applied.removeStreams() }
    let configuration = adjust(applied)
    try await TemporaryDirectory.with { first in
        try await TemporaryDirectory.with { second in
            let a = try LogBackends.open(directory: first.path, configuration: configuration)
            defer { a.close() }
            let b = try LogBackends.open(directory: second.path, configuration: configuration)
            defer { b.close() }
            try await body(a, b)
        }
    }
}

/// Bounds how many tests use the shared cluster at once. Each makes replicated streams, and on
/// two cores a few dozen at once starve every other test of the process.
actor JetStreamSlots {
    static let shared = JetStreamSlots()
    private var free = 3
    private var waiting: [CheckedContinuation<Void, Never>] = []

    func acquire() async {
        if free > 0 {
            free -= 1
            return
        }
        await withCheckedContinuation { waiting.append($0) }
    }

    func release() {
        if waiting.isEmpty {
            free += 1
        } else {
            waiting.removeFirst().resume()
        }
    }
}
