import ArgumentParser
import EventLog
import EventLogJetStream

struct ClusterCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cluster",
        abstract: "Manage the JetStream streams a log on a NATS cluster needs.",
        subcommands: [ClusterApplyCommand.self])
}

struct ClusterApplyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "apply",
        abstract: "Create or update the JetStream streams the configuration declares; prints the plan.",
        discussion: """
            Idempotent: a second run changes nothing. `serve --storage jetstream` checks the streams \
            and refuses to start while they differ from the configuration.
            """)

    @OptionGroup var global: GlobalOptions
    @OptionGroup var output: OutputOptions
    @Flag(help: "Print what would change and change nothing.") var dryRun = false

    func run() async throws {
        let settings = try await global.settings()
        guard case .jetStream(let jetStream) = settings.log.backend else {
            throw ValidationError(
                "the log is on lmdb: pass --storage jetstream and --nats (or set log.storage)")
        }
        let changes =
            dryRun
            ? try JetStreamStorage.plan(configuration: settings.log, settings: jetStream)
            : try JetStreamStorage.apply(configuration: settings.log, settings: jetStream)
        var table = Table("STREAM", dryRun ? "PLAN" : "DONE", "DIFFERENCES")
        for change in changes {
            table.add(change.stream, change.action.rawValue, change.differences.joined(separator: "; "))
        }
        let json = JSONOutput.object([
            ("dryRun", .bool(dryRun)), ("replicas", .int(Int64(jetStream.replicas))),
            (
                "streams",
                .array(
                    changes.map {
                        .object([
                            ("name", .string($0.stream)), ("action", .string($0.action.rawValue)),
                            ("differences", .array($0.differences.map { .string($0) })),
                        ])
                    })
            ),
        ])
        Console.out(output.json ? json.text : table.text)
    }
}
