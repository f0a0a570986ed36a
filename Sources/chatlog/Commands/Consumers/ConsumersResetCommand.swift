import ArgumentParser
import Consumers
import EventLog
import LogBackends

struct ConsumersResetCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reset",
        abstract: "Move a group's checkpoint so it reprocesses (or skips) records.",
        discussion: """
            --to-seq N sets the checkpoint to N (processing resumes at N + 1); 0 means from the start. \
            Beside a running server the reset goes through its admin API, and the running group takes \
            it at once.
            """)

    @OptionGroup var global: GlobalOptions
    @Argument(help: "The group.") var group: String
    @Option(help: "Set the checkpoint to this seq.") var toSeq: UInt64?
    @Option(help: "Reprocess records appended at or after this RFC 3339 time.") var toTime: String?
    @Flag(help: "Reprocess everything retention still keeps.") var trimHorizon = false
    @Flag(help: "Skip to the head.") var latest = false
    @Option(help: "Only this shard.") var shard: Int?
    @Option(help: "The stream (default: every stream the group has a checkpoint on).") var stream: String?
    @Flag(help: "Show what would be reprocessed without changing anything.") var dryRun = false
    @OptionGroup var output: OutputOptions

    func validate() throws {
        let choices = [toSeq != nil, toTime != nil, trimHorizon, latest].filter { $0 }.count
        guard choices == 1 else {
            throw ValidationError("give exactly one of --to-seq, --to-time, --trim-horizon, --latest")
        }
        if let toTime, Timestamp(rfc3339: toTime) == nil {
            throw ValidationError("--to-time '\(toTime)' is not an RFC 3339 time")
        }
    }

    private func resetTarget() -> ResetTarget {
        if let toSeq { return .sequenceNumber(toSeq) }
        if let toTime, let time = Timestamp(rfc3339: toTime) { return .time(time) }
        return trimHorizon ? .trimHorizon : .latest
    }

    func run() async throws {
        let settings = try await global.settingsOfExistingLog()
        let storage: any LogBackend
        do {
            storage = try LogBackends.open(
                directory: settings.dataDirectory, configuration: settings.log, readOnly: dryRun)
        } catch EventLogError.locked {
            try await resetThroughServer(settings.dataDirectory)
            return
        }
        defer { storage.close() }
        let checkpoints = try await storage.checkpoints().filter { $0.group == group }
        var shards = checkpoints.map { ShardKey(stream: $0.stream, shard: $0.shard) }
        if shards.isEmpty, let stream {
            shards = try storage.descriptor(StreamName(stream)).shards
        }
        if let stream { shards = shards.filter { $0.stream.rawValue == stream } }
        if let shard { shards = shards.filter { $0.shard == shard } }
        guard !shards.isEmpty else { throw CommandFailure("no checkpoints of group '\(group)' match") }
        let moves = try await resetTarget().move(group, on: shards, in: storage, dryRun: dryRun)
        report(
            moves.map {
                Move(
                    stream: $0.shard.stream.rawValue, shard: $0.shard.shard, from: $0.from, to: $0.to,
                    toReprocess: $0.toReprocess)
            }, by: nil)
    }

    /// One shard's checkpoint move.
    private struct Move {
        var stream: String
        var shard: Int
        var from: UInt64
        var to: UInt64
        var toReprocess: UInt64
    }

    private func report(_ moves: [Move], by server: RunningServer?) {
        if output.json {
            let shards = moves.map { move -> JSONOutput in
                .object([
                    ("stream", .string(move.stream)), ("shard", .int(Int64(move.shard))),
                    ("from", .uint(move.from)),
                    ("to", .uint(move.to)), ("toReprocess", .uint(move.toReprocess)),
                ])
            }
            Console.out(
                JSONOutput.object([
                    ("group", .string(group)), ("dryRun", .bool(dryRun)), ("byServer", .bool(server != nil)),
                    ("shards", .array(shards)),
                ]).text)
            return
        }
        var table = Table("STREAM", "SHARD", "FROM", "TO", "TO REPROCESS")
        for move in moves {
            table.add(move.stream, "\(move.shard)", "\(move.from)", "\(move.to)", "\(move.toReprocess)")
        }
        let heading =
            server.map { "reset by \($0.description):\n" } ?? (dryRun ? "dry run, nothing changed:\n" : "")
        Console.out(heading + table.text)
    }

    /// The server holds the log for writing: it moves the checkpoint, and the running group
    /// takes the new position at once.
    private func resetThroughServer(_ directory: String) async throws {
        if let stream, stream != StreamName.chatEvents.rawValue {
            throw CommandFailure("a running server resets its groups on \(StreamName.chatEvents) only")
        }
        let server = try RunningServer.locate(directory: directory)
        var body: [String: Any] = [:]
        if let toSeq { body["toSeq"] = toSeq }
        if let toTime { body["toTime"] = toTime }
        if trimHorizon { body["trimHorizon"] = true }
        if latest { body["latest"] = true }
        if let shard { body["shard"] = shard }
        let answer = try await server.post("/v1/admin/consumers/\(group)/reset", body: body)
        let moves = try (answer["shards"] as? [[String: Any]] ?? []).map { move in
            guard let stream = move["stream"] as? String, let shard = move["shard"] as? Int,
                let from = move["from"] as? UInt64, let to = move["to"] as? UInt64,
                let toReprocess = move["toReprocess"] as? UInt64
            else {
                throw CommandFailure(
                    "\(server.description) answered a reset this command cannot read: \(move)")
            }
            return Move(stream: stream, shard: shard, from: from, to: to, toReprocess: toReprocess)
        }
        report(moves, by: server)
    }
}
