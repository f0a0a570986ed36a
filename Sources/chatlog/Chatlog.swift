import ArgumentParser

@main
struct Chatlog: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "chatlog",
        abstract: "An event-sourced chat backend on an append-only log.",
        subcommands: [LogCommand.self, BenchCommand.self, DebugCommand.self]
    )
}
