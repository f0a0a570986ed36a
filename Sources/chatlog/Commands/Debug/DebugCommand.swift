import ArgumentParser

/// `chatlog debug …`: helpers for tests and drills, hidden from help.
struct DebugCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "debug",
        abstract: "Helpers for tests and recovery drills.",
        shouldDisplay: false,
        subcommands: [AppendLoadCommand.self, EchoServerCommand.self, WebSocketEchoServerCommand.self]
    )
}
