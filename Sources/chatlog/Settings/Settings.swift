import Chat
import ChatServer
import EventLog

/// Everything chatlog is configured with, read once at start by `SettingsLoader`.
struct Settings: Sendable {
    /// The data directory; the log lives in its `log` subdirectory.
    var dataDirectory = "./data"
    var log = LogConfiguration.chatlog
    var chat = ChatConfiguration()
    var server = ServerConfiguration()
}

extension LogConfiguration {
    /// chatlog's log with every setting at its default: what the benches and drills create.
    static var chatlog: LogConfiguration { LogConfiguration(streams: ChatServer.streams) }
}
