import Chat
import ChatServer
import EventLog

/// Everything chatlog is configured with, read once at start by `SettingsLoader`.
struct Settings: Sendable {
    /// The data directory; the log lives in its `log` subdirectory.
    var dataDirectory = "./data"
    var log = LogConfiguration()
    var chat = ChatConfiguration()
    var server = ServerConfiguration()
}
