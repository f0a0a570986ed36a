import ArgumentParser

@main
struct Chatlog: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "chatlog",
        abstract: "An event-sourced chat backend on an append-only log.",
        subcommands: [
            ServeCommand.self, TokenCommand.self, APIKeyCommand.self, LogCommand.self, ConsumersCommand.self,
            ProjectionsCommand.self, BackupCommand.self, RestoreCommand.self, DrillCommand.self,
            BenchCommand.self, ClusterCommand.self,
            DebugCommand.self,
        ]
    )
}
