import ArgumentParser
import EventLog
import Foundation
import LogBackends

/// `chatlog bench log`: durable append throughput and latency under concurrency, full-scan
/// speed, and the time to open a large log, each beside raw LMDB doing the same work. Each
/// concurrency level is followed at once by raw LMDB committing as many records per synced
/// commit as the log did, and as many as there were appenders, so a ratio comes from one run.
struct LogBenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "log",
        abstract: "Benchmark the log: appends, scans and opening a large data directory.")

    @Option(help: "Seconds to run each concurrency level.") var seconds: Double = 3
    @Option(help: "Comma-separated numbers of concurrent appenders.") var appenders: String = "1,16,256"
    @Option(help: "Payload bytes per record.") var payloadBytes: Int = 200
    @Option(help: "Channels the records are spread over; 0 appends plain records (no channel index).")
    var channels: Int = 1000
    @Option(help: "Records in the data directory that is scanned and reopened (0 skips).")
    var openRecords: Int = 10_000_000
    @Option(help: "Where to put the benchmark's data (default: a temporary directory, removed after).")
    var dataDir: String?
    @Flag(help: "Print the figures as one JSON object on standard output.") var json = false

    func validate() throws { _ = try levels() }

    private func levels() throws -> [Int] {
        try appenders.split(separator: ",").map { text in
            guard let value = Int(text.trimmingCharacters(in: .whitespaces)), value > 0 else {
                throw ValidationError("--appenders takes positive numbers separated by commas")
            }
            return value
        }
    }

    func run() async throws {
        let levels = try levels()
        let root = dataDir ?? NSTemporaryDirectory() + "chatlog-bench-" + UUID().uuidString.lowercased()
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        defer { if dataDir == nil { try? FileManager.default.removeItem(atPath: root) } }

        let workload = LogWorkload(payloadBytes: payloadBytes, channels: channels)
        var report = BenchReport()
        report.note(
            "chatlog bench log: \(buildConfiguration) build, \(ProcessInfo.processInfo.activeProcessorCount) cores, "
                + "payload \(payloadBytes) B (stored record \(workload.storedRecordBytes) B), "
                + (channels > 0 ? "\(channels) channels, " : "plain records over 1000 keys, ")
                + "durability strict")
        try await compareAppends(levels: levels, workload: workload, root: root, into: &report)
        if openRecords > 0 {
            try await OpenAndScanBenchmark(
                workload: workload, directory: root + "/large", records: openRecords
            )
            .run(into: &report)
        }
        if json { Console.out(report.json.text) }
    }

    private func compareAppends(
        levels: [Int], workload: LogWorkload, root: String, into report: inout BenchReport
    ) async throws {
        let storage = try LogBackends.open(directory: root + "/append", configuration: .chatlog)
        defer { storage.close() }
        let appends = AppendBenchmark(storage: storage, workload: workload, seconds: seconds)
        let raw = try RawLMDBBenchmark(
            valueBytes: workload.storedRecordBytes, directory: root + "/raw", seconds: seconds)
        let shards = try storage.descriptor(.chatEvents).shards.count
        var results: [JSONOutput] = []
        for level in levels {
            let figures = try await appends.measure(appenders: level)
            report.note(figures.line)
            let perCommit = max(1, Int(figures.recordsPerCommit.rounded()))
            let sameCommits = try raw.measure(recordsPerCommit: perCommit)
            // The same commits making the same writes: what the log's layout costs in LMDB,
            // apart from the log's own code.
            let sameWrites =
                workload.indexed
                ? try raw.measure(
                    recordsPerCommit: perCommit,
                    writeSet: .channelRecord(channels: workload.channelIDs.count, shards: shards)) : nil
            let sameBatch = try raw.measure(recordsPerCommit: level)
            for rawFigures in [sameCommits, sameWrites, sameBatch].compactMap({ $0 }) {
                report.note(
                    rawFigures.line
                        + String(
                            format: "  (log: %.2f of it)",
                            figures.recordsPerSecond / rawFigures.recordsPerSecond))
            }
            results.append(
                .object(
                    figures.json + [
                        ("rawLMDBSameRecordsPerCommit", .object(sameCommits.json)),
                        ("ofRawLMDB", .double(figures.recordsPerSecond / sameCommits.recordsPerSecond)),
                        ("rawLMDBSameWrites", sameWrites.map { .object($0.json) } ?? .null),
                        (
                            "ofRawLMDBSameWrites",
                            sameWrites.map { .double(figures.recordsPerSecond / $0.recordsPerSecond) }
                                ?? .null
                        ),
                        ("rawLMDBOneCommitPerAppender", .object(sameBatch.json)),
                        (
                            "ofRawLMDBOneCommitPerAppender",
                            .double(figures.recordsPerSecond / sameBatch.recordsPerSecond)
                        ),
                    ]))
        }
        report.add(nil, key: "append", .array(results))
    }
}
