import ArgumentParser

/// `chatlog log …`: inspect the append-only log.
struct LogCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "log",
        abstract: "Inspect the log: streams, shards, records, integrity and storage.",
        discussion: "These commands read; they work on a stopped data directory and beside a running server.",
        subcommands: [
            LogStreamsCommand.self, LogDescribeCommand.self, LogGetRecordsCommand.self, LogTailCommand.self,
            LogVerifyCommand.self, LogStatsCommand.self,
        ]
    )
}
