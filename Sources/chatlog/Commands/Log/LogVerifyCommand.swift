import ArgumentParser
import ChatServer
import EventLog
import LogBackends

struct LogVerifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check the log's invariants; exit 0 when sound, 1 on any violation.",
        discussion: """
            Checks every record's checksum, that shard and channel sequence numbers are contiguous, \
            that times never go back within a shard, that the shard counters, channel index, channel \
            heads and idempotency index agree with the records, that no checkpoint is past its head, and \
            that the projections equal the same projections folded afresh from the log (skipped once \
            retention has trimmed records).
            """)

    @OptionGroup var global: GlobalOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        let settings = try await global.settings()
        let storage = try LogBackends.open(
            directory: settings.dataDirectory, configuration: settings.log, readOnly: true,
            projections: ChatServer.projections)
        defer { storage.close() }
        var lastReported: UInt64 = 0
        var report = try storage.verify { checked, total in
            guard checked != lastReported, checked - lastReported >= 1_000_000 || checked == total else {
                return
            }
            lastReported = checked
            Console.progress("verified \(checked) of \(total) records (\(checked * 100 / total)%)")
        }
        Console.endProgress()
        lastReported = 0
        // Refolding reads every record, so it runs only on a log whose records are sound.
        let mismatches =
            report.isSound
            ? try storage.projectionMismatches { folded, total in
                guard folded - lastReported >= 1_000_000 || folded == total else { return }
                lastReported = folded
                Console.progress("refolded \(folded) of \(total) records into scratch projections")
            } : nil
        Console.endProgress()
        for table in mismatches ?? [] {
            report.add("projection", table, "differs from the same projection folded afresh from the log")
        }
        if output.json {
            Console.out(
                JSONOutput.object([
                    ("ok", .bool(report.isSound)),
                    (
                        "violations",
                        .array(
                            report.violations.map {
                                .object([
                                    ("check", .string($0.check)), ("location", .string($0.location)),
                                    ("message", .string($0.message)),
                                ])
                            })
                    ),
                    ("omittedViolations", .int(Int64(report.omittedViolations))),
                    ("recordsChecked", .uint(report.recordsChecked)),
                    ("channelsChecked", .int(Int64(report.channelsChecked))),
                    ("indexEntriesChecked", .int(Int64(report.indexEntriesChecked))),
                ]).text)
        } else {
            for violation in report.violations { Console.out("VIOLATION \(violation)") }
            if report.omittedViolations > 0 { Console.out("… and \(report.omittedViolations) more") }
            Console.out(
                "\(report.isSound ? "OK" : "FAILED"): \(report.recordsChecked) records, \(report.channelsChecked) channels, "
                    + "\(report.indexEntriesChecked) index entries checked; \(report.violations.count + report.omittedViolations) violations"
            )
        }
        if !report.isSound { throw ExitCode(1) }
    }
}
