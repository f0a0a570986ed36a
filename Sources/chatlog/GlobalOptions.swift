import ArgumentParser
import EventLog
import LogBackends

/// The options every command takes.
struct GlobalOptions: ParsableArguments {
    @Option(name: .customLong("data-dir"), help: "The data directory (default: ./data).")
    var dataDirectory: String?

    @Option(name: .customLong("config"), help: "A YAML configuration file (see Config/chatlog.yaml).")
    var configFile: String?

    @Option(help: "Where the log is kept: lmdb (this machine) or jetstream (a NATS cluster; default lmdb).")
    var storage: String?

    @Option(help: "The JetStream cluster's servers, comma-separated (nats://host:4222,...).")
    var nats: String?

    func settings(host: String? = nil, port: Int? = nil) async throws -> Settings {
        try await SettingsLoader(
            configFile: configFile, dataDirectory: dataDirectory, storage: storage, natsServers: nats,
            host: host,
            port: port
        )
        .load()
    }

    /// The settings of a command that writes an existing log: a mistyped --data-dir is an
    /// error, never a new, empty log.
    func settingsOfExistingLog() async throws -> Settings {
        let settings = try await settings()
        guard LogBackends.exists(directory: settings.dataDirectory) else {
            throw EventLogError.notFound(settings.dataDirectory)
        }
        return settings
    }

    /// Opens the log for reading; works beside a running server.
    func openLogReadOnly() async throws -> (any LogBackend, Settings) {
        let settings = try await settings()
        let storage = try LogBackends.open(
            directory: settings.dataDirectory, configuration: settings.log, readOnly: true)
        return (storage, settings)
    }
}

/// Output choice shared by the inspection commands.
struct OutputOptions: ParsableArguments {
    @Flag(help: "Print JSON instead of a table.")
    var json = false
}
