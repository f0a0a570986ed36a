import ArgumentParser
import Consumers
import EventLog

/// `chatlog consumers …`: consumer groups' checkpoints, lag and dead letters.
struct ConsumersCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "consumers",
        abstract: "Inspect and move consumer groups: checkpoints, lag, dead letters.",
        discussion: """
            A checkpoint is the last sequence number a group has fully processed (0: nothing yet); \
            processing resumes at checkpoint + 1. Every command works beside a running server: list and \
            describe also ask it whether each group runs, and reset and dlq redrive go through its \
            admin API.
            """,
        subcommands: [
            ConsumersListCommand.self, ConsumersDescribeCommand.self, ConsumersResetCommand.self,
            DeadLetterCommand.self,
        ])
}

extension GroupPosition {
    /// What the server said of this shard of its group, if it runs the group there: it runs
    /// its groups on chat_events only.
    func live(_ group: [Int: [String: Any]]?) -> [String: Any]? {
        shard.stream == .chatEvents ? group?[Int(shard.shard)] : nil
    }

    /// The RUNNING column: whether the server runs the group on this shard.
    static func runningColumn(serverAnswered: Bool, _ status: [String: Any]?) -> String {
        serverAnswered ? (status?["running"] as? Bool == true ? "yes" : "no") : "no server"
    }
}

struct ConsumersListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "Groups, with checkpoint, head and lag per shard.",
        discussion: "Beside a running server it also says whether the server runs each group on each shard.")

    @OptionGroup var global: GlobalOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        let (storage, settings) = try await global.openLogReadOnly()
        defer { storage.close() }
        let groups = try await GroupPosition.all(in: storage)
        let live = await RunningServer.consumerGroups(directory: settings.dataDirectory)
        if output.json {
            Console.out(
                JSONOutput.object([
                    ("serverAnswered", .bool(live != nil)),
                    (
                        "groups",
                        .array(
                            groups.map { name, shards in
                                .object([
                                    ("name", .string(name)),
                                    (
                                        "shards",
                                        .array(
                                            shards.map {
                                                .object([
                                                    ("stream", .string($0.shard.stream.rawValue)),
                                                    ("shard", .int(Int64($0.shard.shard))),
                                                    ("checkpoint", .uint($0.checkpoint)),
                                                    ("head", .uint($0.head)), ("lag", .uint($0.lag)),
                                                    (
                                                        "running",
                                                        .bool(
                                                            $0.live(live?[name])?["running"] as? Bool == true)
                                                    ),
                                                ])
                                            })
                                    ),
                                ])
                            }),
                    ),
                ]).text)
        } else {
            var table = Table("GROUP", "STREAM", "SHARD", "CHECKPOINT", "HEAD", "LAG", "RUNNING")
            for (name, shards) in groups {
                for shard in shards {
                    table.add(
                        name, shard.shard.stream.rawValue, "\(shard.shard.shard)", "\(shard.checkpoint)",
                        "\(shard.head)", "\(shard.lag)",
                        GroupPosition.runningColumn(serverAnswered: live != nil, shard.live(live?[name])))
                }
            }
            Console.out(table.text)
        }
    }
}

struct ConsumersDescribeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "describe",
        abstract: "Why is a group behind? Checkpoint, head, lag, oldest unprocessed age, dead letters.",
        discussion: """
            Beside a running server it also asks the server (through its admin API) whether the group \
            runs on each shard, and what it retries right now.
            """)

    @OptionGroup var global: GlobalOptions
    @Argument(help: "The group.") var group: String
    @OptionGroup var output: OutputOptions

    func run() async throws {
        let (storage, settings) = try await global.openLogReadOnly()
        defer { storage.close() }
        guard let shards = try await GroupPosition.all(in: storage).first(where: { $0.0 == group })?.1 else {
            throw CommandFailure("no consumer group named '\(group)' has a checkpoint")
        }
        let letters = try await storage.deadLetters(group: group)
        // What the server says of the group's shards; empty when it does not run the group.
        let live = await RunningServer.consumerGroups(directory: settings.dataDirectory).map {
            $0[group] ?? [:]
        }
        let now = Timestamp.now()
        var table = Table(
            "STREAM", "SHARD", "CHECKPOINT", "HEAD", "LAG", "OLDEST UNPROCESSED", "DEAD LETTERS", "RUNNING",
            "FAILING")
        var json: [JSONOutput] = []
        var failing: [String] = []
        for shard in shards {
            let status = shard.live(live)
            let attempts = status?["failingAttempts"] as? Int ?? 0
            if attempts > 0, let error = status?["lastError"] as? String {
                failing.append("\(shard.shard): attempt \(attempts) failed: \(error)")
            }
            let oldest = try await storage.loadNext(
                shard.shard, after: shard.checkpoint, limit: 1, maxBytes: 1
            )
            .first?.createdAt
            let age = oldest.map { Double(now.microseconds - $0.microseconds) / 1_000_000 }
            let dead = letters.filter { $0.position.shardKey == shard.shard }.count
            table.add(
                shard.shard.stream.rawValue, "\(shard.shard.shard)", "\(shard.checkpoint)", "\(shard.head)",
                "\(shard.lag)",
                age.map { String(format: "%.1f s ago", $0) } ?? "-", "\(dead)",
                GroupPosition.runningColumn(serverAnswered: live != nil, status),
                attempts > 0 ? "\(attempts) attempts" : "-")
            json.append(
                .object([
                    ("stream", .string(shard.shard.stream.rawValue)),
                    ("shard", .int(Int64(shard.shard.shard))),
                    ("checkpoint", .uint(shard.checkpoint)), ("head", .uint(shard.head)),
                    ("lag", .uint(shard.lag)),
                    ("oldestUnprocessedAgeSeconds", age.map(JSONOutput.double) ?? .null),
                    ("deadLetters", .int(Int64(dead))),
                    ("running", .bool(status?["running"] as? Bool == true)),
                    ("failingAttempts", .int(Int64(attempts))),
                ]))
        }
        let lastError = letters.max { $0.failedAt < $1.failedAt }
        if output.json {
            Console.out(
                JSONOutput.object([
                    ("name", .string(group)), ("serverAnswered", .bool(live != nil)),
                    ("shards", .array(json)),
                    ("deadLetters", .int(Int64(letters.count))),
                    ("lastError", .optional(lastError?.error)),
                ]).text)
        } else {
            Console.out("group \(group): \(letters.count) dead letters\n\n\(table.text)")
            for line in failing { Console.out("failing now on \(line)") }
            if let lastError {
                Console.out(
                    "\nlast dead letter: \(lastError.position) after \(lastError.attempts) attempts: \(lastError.error)"
                )
            }
        }
    }
}
