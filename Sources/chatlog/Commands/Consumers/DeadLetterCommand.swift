import ArgumentParser
import Chat
import ChatServer
import Consumers
import EventLog
import LogBackends
import Logging

struct DeadLetterCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dlq", abstract: "Records consumer groups gave up on.",
        subcommands: [List.self, Redrive.self])

    struct Redrive: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Hand the agent group's dead letters to its handler again; those that succeed leave the list.",
            discussion: """
                Uses the configured responder on a stopped data directory; beside a running server, \
                the server re-drives them through its admin API.
                """)
        @OptionGroup var global: GlobalOptions
        @Option(help: "The group (the built-in agent group).") var group: String = "agent"
        @OptionGroup var output: OutputOptions

        func validate() throws {
            guard group == AgentConsumer.group else {
                throw ValidationError("only the built-in '\(AgentConsumer.group)' group can be re-driven")
            }
        }

        func run() async throws {
            let settings = try await global.settingsOfExistingLog()
            let (redriven, failed): ([String], [(String, String)])
            var byServer = false
            do {
                (redriven, failed) = try await redriveHere(settings)
            } catch EventLogError.locked {
                (redriven, failed) = try await redriveThroughServer(settings.dataDirectory)
                byServer = true
            }
            if output.json {
                let failures = failed.map { position, error -> JSONOutput in
                    .object([("position", .string(position)), ("error", .string(error))])
                }
                Console.out(
                    JSONOutput.object([
                        ("group", .string(group)), ("byServer", .bool(byServer)),
                        ("redriven", .array(redriven.map(JSONOutput.string))), ("failed", .array(failures)),
                    ]).text)
                return
            }
            var table = Table("POSITION", "RESULT")
            for position in redriven { table.add(position, "handled; removed") }
            for (position, error) in failed { table.add(position, "left in the list: \(error)") }
            Console.out(table.rows.isEmpty ? "no dead letters for group \(group)" : table.text)
        }

        private func redriveHere(_ settings: Settings) async throws -> ([String], [(String, String)]) {
            let storage = try LogBackends.open(
                directory: settings.dataDirectory, configuration: settings.log,
                projections: ChatServer.projections)
            defer { storage.close() }
            let agent = AgentConsumer(
                chat: ChatService(log: storage, configuration: settings.chat),
                responder: settings.server.agent.makeResponder(), logger: Logger(label: "chatlog.agent"))
            let report = try await agent.redrive(AgentConsumer.group, in: storage)
            return (
                report.redriven.map(\.description), report.failed.map { ($0.position.description, $0.error) }
            )
        }

        private func redriveThroughServer(_ directory: String) async throws -> ([String], [(String, String)])
        {
            let server = try RunningServer.locate(directory: directory)
            let answer = try await server.post("/v1/admin/consumers/\(group)/dlq/redrive", body: [:])
            Console.error("re-driven by \(server.description)")
            let unreadable = CommandFailure(
                "\(server.description) answered a re-drive this command cannot read")
            let failed = try (answer["failed"] as? [[String: Any]] ?? []).map { failure in
                guard let position = failure["position"] as? String, let error = failure["error"] as? String
                else {
                    throw unreadable
                }
                return (position, error)
            }
            guard let redriven = answer["redriven"] as? [String] else { throw unreadable }
            return (redriven, failed)
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List dead letters: position, error, attempts.")
        @OptionGroup var global: GlobalOptions
        @Option(help: "Only this group.") var group: String?
        @OptionGroup var output: OutputOptions

        func run() async throws {
            let (storage, _) = try await global.openLogReadOnly()
            defer { storage.close() }
            let letters = try await storage.deadLetters(group: group)
            if output.json {
                Console.out(
                    JSONOutput.object([
                        (
                            "deadLetters",
                            .array(
                                letters.map {
                                    .object([
                                        ("group", .string($0.group)), ("stream", .string($0.stream.rawValue)),
                                        ("shard", .int(Int64($0.shard))), ("seq", .uint($0.seq)),
                                        ("error", .string($0.error)),
                                        ("attempts", .int(Int64($0.attempts))),
                                        ("failedAt", .string($0.failedAt.rfc3339)),
                                    ])
                                })
                        )
                    ]).text)
            } else {
                var table = Table("GROUP", "POSITION", "ATTEMPTS", "FAILED AT", "ERROR")
                for letter in letters {
                    table.add(
                        letter.group, letter.position.description, "\(letter.attempts)",
                        letter.failedAt.rfc3339, letter.error)
                }
                Console.out(table.text)
            }
        }
    }
}
