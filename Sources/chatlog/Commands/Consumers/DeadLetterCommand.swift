import ArgumentParser
import EventLog

struct DeadLetterCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dlq", abstract: "Records consumer groups gave up on.", subcommands: [List.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List dead letters: position, error, attempts.")
        @OptionGroup var global: GlobalOptions
        @Option(help: "Only this group.") var group: String?
        @OptionGroup var output: OutputOptions

        func run() async throws {
            let (storage, _) = try await global.openLogReadOnly()
            defer { storage.close() }
            let letters = try storage.deadLetters(group: group)
            if output.json {
                Console.out(
                    JSONValue.object([
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
