import EventLog

/// Everything chatlog is configured with, read once at start by `SettingsLoader`.
struct Settings: Sendable {
    /// The data directory; the log lives in its `log` subdirectory.
    var dataDirectory = "./data"
    var log = LogConfiguration()
    /// How often a server applies retention.
    var retentionInterval: Duration = .seconds(60)
}
