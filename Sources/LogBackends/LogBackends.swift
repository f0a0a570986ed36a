import EventLog
import EventLogJetStream
import EventLogLMDB
import Logging

/// Opens a data directory's log with the backend its configuration names: the one place above
/// the backends that knows which exist.
public enum LogBackends {
    /// Opens the log in `directory`, creating it unless `readOnly`. Read-only opens work beside
    /// a running server. On JetStream, `directory` holds this node's replica of the log, and a
    /// read-only open reads the replica as this node last folded it, and asks the cluster
    /// where the groups the nodes share stand.
    public static func open(
        directory: String, configuration: LogConfiguration, readOnly: Bool = false,
        projections: [any Projection] = [], stateTables: [String] = [],
        clock: any LogClock = SystemLogClock(), logger: Logger = Logger(label: "chatlog.log")
    ) throws -> any LogBackend {
        if case .jetStream(let settings) = configuration.backend {
            return try JetStreamStorage(
                directory: directory, configuration: configuration, settings: settings, readOnly: readOnly,
                projections: projections, stateTables: stateTables, clock: clock, logger: logger)
        }
        return try LMDBStorage(
            directory: directory, configuration: configuration, readOnly: readOnly, projections: projections,
            stateTables: stateTables, clock: clock, logger: logger)
    }

    /// Whether `directory` holds a log.
    public static func exists(directory: String) -> Bool {
        LMDBStorage.exists(directory: directory)
    }

    /// The file that holds a directory's log (what a backup writes and a restore copies).
    public static func dataFile(directory: String) -> String {
        LMDBStorage.environmentPath(directory) + "/data.mdb"
    }
}
