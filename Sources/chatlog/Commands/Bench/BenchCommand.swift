import ArgumentParser

/// `chatlog bench …`: programs that measure and print figures (use a release build).
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure chatlog's performance and print the figures.",
        discussion: "Run a release build: swift build -c release, then .build/release/chatlog bench ….",
        subcommands: [
            LogBenchCommand.self, ConsumersBenchCommand.self, WebSocketBenchCommand.self,
            JetStreamBenchCommand.self, ClusterBenchCommand.self,
        ]
    )
}
