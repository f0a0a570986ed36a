import EventLog
import LogBackends

/// Opens a log in a new temporary directory, runs `body`, then closes and removes it.
public func withLog<R>(
    configuration: LogConfiguration = LogConfiguration(), clock: any LogClock = SystemLogClock(),
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
