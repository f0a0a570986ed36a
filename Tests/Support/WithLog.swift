import EventLog
import LogBackends

extension LogConfiguration {
    /// Two streams of four shards, named as chatlog's: what a test log has unless told otherwise.
    public static var twoStreams: LogConfiguration {
        LogConfiguration(
            streams: ["chat_events", "triggers"].map { StreamConfiguration(name: $0, shardCount: 4) })
    }
}

/// Opens a log in a new temporary directory, runs `body`, then closes and removes it.
public func withLog<R>(
    configuration: LogConfiguration = .twoStreams, clock: any LogClock = SystemLogClock(),
    projections: [any Projection] = [], stateTables: [String] = [],
    _ body: (any LogBackend, TemporaryDirectory) async throws -> R
) async throws -> R {
    try await TemporaryDirectory.with { directory in
        let storage = try LogBackends.open(
            directory: directory.path, configuration: configuration, projections: projections,
            stateTables: stateTables, clock: clock)
        defer { storage.close() }
        return try await body(storage, directory)
    }
}
