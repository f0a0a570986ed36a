import ArgumentParser
import ChatServer
import EventLog
import Foundation
import LogBackends

struct ProjectionsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "projections", abstract: "Maintain the read models folded from the log.",
        subcommands: [Rebuild.self])

    struct Rebuild: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Drop every projection and fold the whole log into it again.",
            discussion: """
                Writes: run it on a stopped data directory. Prints each table's entry count and \
                checksum before and after, and whether the rebuilt projections are byte-for-byte \
                identical to the ones they replace (they differ only where retention trimmed the \
                records that built them).
                """)
        @OptionGroup var global: GlobalOptions
        @OptionGroup var output: OutputOptions

        func run() async throws {
            let settings = try await global.settingsOfExistingLog()
            let storage = try LogBackends.open(
                directory: settings.dataDirectory, configuration: settings.log,
                projections: ChatServer.projections)
            defer { storage.close() }
            let before = try storage.projectionDigests()
            let started = ContinuousClock.now
            let folded = try await storage.rebuildProjections { done, total in
                Console.progress(
                    "folded \(done) of \(total) records (\(total == 0 ? 100 : done * 100 / total)%)")
            }
            Console.endProgress()
            let seconds = (ContinuousClock.now - started) / .seconds(1)
            let after = try storage.projectionDigests()
            let identical = before == after
            if output.json {
                Console.out(
                    JSONOutput.object([
                        ("records", .uint(folded)), ("seconds", .double(seconds)),
                        ("identical", .bool(identical)),
                        (
                            "tables",
                            .array(
                                after.keys.sorted().map { name in
                                    .object([
                                        ("name", .string(name)),
                                        ("entriesBefore", .int(Int64(before[name]?.entries ?? 0))),
                                        ("entriesAfter", .int(Int64(after[name]?.entries ?? 0))),
                                        ("identical", .bool(before[name] == after[name])),
                                    ])
                                })
                        ),
                    ]).text)
            } else {
                var table = Table(
                    "TABLE", "ENTRIES BEFORE", "ENTRIES AFTER", "CHECKSUM BEFORE", "CHECKSUM AFTER", "SAME")
                for name in after.keys.sorted() {
                    let old = before[name]
                    let new = after[name]
                    table.add(
                        name, "\(old?.entries ?? 0)", "\(new?.entries ?? 0)", Self.hex(old?.checksum),
                        Self.hex(new?.checksum), old == new ? "yes" : "NO")
                }
                Console.out(table.text)
                Console.out(
                    String(format: "rebuilt from %d records in %.2f s: ", folded, seconds)
                        + (identical
                            ? "identical to the projections it replaced"
                            : "DIFFERENT from the projections it replaced"))
            }
        }

        private static func hex(_ value: UInt32?) -> String {
            value.map { String($0, radix: 16) } ?? "-"
        }
    }
}
