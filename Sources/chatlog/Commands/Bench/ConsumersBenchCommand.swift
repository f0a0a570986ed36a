import ArgumentParser
import Consumers
import EventLog
import Foundation
import Histogram
import LogBackends
import Logging
import Synchronization

/// `chatlog bench consumers`: how fast a no-op group catches up from the trim horizon, and how
/// soon after a commit a caught-up group's handler starts on the new record.
struct ConsumersBenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "consumers", abstract: "Benchmark consumer groups: catch-up rate and wake-up latency.")

    @Option(help: "Records the no-op group catches up over.") var records: Int = 1_000_000
    @Option(help: "Appends per second during the wake-up measurement.") var rate: Int = 5000
    @Option(help: "Seconds of steady appends for the wake-up measurement.") var seconds: Double = 5
    @Option(help: "Where to put the benchmark's data (default: a temporary directory, removed after).")
    var dataDir: String?
    @Flag(help: "Print the figures as one JSON object on standard output.") var json = false

    /// Counts records and reports when `target` have been seen; optionally records latency.
    final class Probe: RecordHandler {
        private let state = Mutex<(count: Int, latency: Histogram<UInt64>)>(
            (0, Histogram(highestTrackableValue: 60_000_000)))
        private let target: Int
        private let done: AsyncStream<Void>.Continuation
        let finished: AsyncStream<Void>
        let measureLatency: Bool

        init(target: Int, measureLatency: Bool) {
            self.target = target
            self.measureLatency = measureLatency
            (finished, done) = AsyncStream.makeStream()
        }

        func handle(_ record: Record) async throws {
            let now = measureLatency ? Timestamp.now() : record.createdAt
            let reached = state.withLock { state in
                state.count += 1
                if measureLatency {
                    _ = state.latency.record(UInt64(max(0, now.microseconds - record.createdAt.microseconds)))
                }
                return state.count == target
            }
            if reached { done.yield() }
        }

        var latency: Histogram<UInt64> { state.withLock { $0.latency } }
    }

    func run() async throws {
        let root =
            dataDir ?? NSTemporaryDirectory() + "chatlog-bench-consumers-" + UUID().uuidString.lowercased()
        defer { if dataDir == nil { try? FileManager.default.removeItem(atPath: root) } }
        let storage = try LogBackends.open(directory: root, configuration: .chatlog)
        defer { storage.close() }
        var report = BenchReport()
        report.note(
            "chatlog bench consumers: \(buildConfiguration) build, \(ProcessInfo.processInfo.activeProcessorCount) cores"
        )
        let workload = LogWorkload(payloadBytes: 200, channels: 0)
        try await fill(storage, workload: workload)
        try await catchUp(storage, into: &report)
        try await wakeUp(storage, workload: workload, into: &report)
        if json { Console.out(report.json.text) }
    }

    private func fill(_ storage: any LogBackend, workload: LogWorkload) async throws {
        var appended = 0
        while appended < records {
            let size = min(4000, records - appended)
            let offset = appended
            try await withThrowingTaskGroup(of: Void.self) { group in
                for start in stride(from: 0, to: size, by: 1000) {
                    group.addTask {
                        _ = try await storage.append(
                            (start..<min(start + 1000, size)).map { workload.request(offset + $0) })
                    }
                }
                try await group.waitForAll()
            }
            appended += size
        }
    }

    private func runGroup(_ name: String, _ storage: any LogBackend, _ probe: Probe) -> Task<Void, any Error>
    {
        var group = ConsumerGroupConfiguration(name: name, stream: .chatEvents)
        group.batchSize = 1000
        let runner = ConsumerRunner(
            storage: storage, group: group, handler: probe, logger: Logger(label: "bench"))
        return Task { try await runner.run() }
    }

    private func catchUp(_ storage: any LogBackend, into report: inout BenchReport) async throws {
        let probe = Probe(target: records, measureLatency: false)
        let started = ContinuousClock.now
        let task = runGroup("bench-catch-up", storage, probe)
        for await _ in probe.finished { break }
        let elapsed = (ContinuousClock.now - started) / .seconds(1)
        task.cancel()
        try await task.value
        let rate = Double(records) / elapsed
        report.add(
            String(
                format: "catch-up  no-op group, %d records from the trim horizon: %10.0f records/s", records,
                rate),
            key: "catchUp",
            .object([("records", .int(Int64(records))), ("recordsPerSecond", .double(rate.rounded()))]))
    }

    private func wakeUp(_ storage: any LogBackend, workload: LogWorkload, into report: inout BenchReport)
        async throws
    {
        for shard in try storage.descriptor(.chatEvents).shards {
            try await storage.setCheckpoint(
                try storage.shardInfo(shard).head, group: "bench-wake-up", shard: shard)
        }
        let appenders = 16
        let perAppender = Int(Double(rate) * seconds) / appenders
        let probe = Probe(target: perAppender * appenders, measureLatency: true)
        let task = runGroup("bench-wake-up", storage, probe)
        let interval = Duration.seconds(Double(appenders) / Double(rate))
        let start = ContinuousClock.now + .milliseconds(100)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for appender in 0..<appenders {
                group.addTask {
                    let offset = start + interval * (Double(appender) / Double(appenders))
                    for index in 0..<perAppender {
                        try await Task.sleep(until: offset + interval * index)
                        _ = try await storage.append(workload.request(index * appenders + appender))
                    }
                }
            }
            try await group.waitForAll()
        }
        for await _ in probe.finished { break }
        task.cancel()
        try await task.value
        let latency = probe.latency
        let line = String(
            format:
                "wake-up   %d appends/s for %.0f s, commit to handler start: p50 %d µs  p99 %d µs  max %d µs",
            rate, seconds, latency.valueAtPercentile(50), latency.valueAtPercentile(99), latency.max)
        report.add(
            line, key: "wakeUp",
            .object([
                ("appendsPerSecond", .int(Int64(rate))), ("records", .uint(latency.totalCount)),
                ("p50Microseconds", .uint(latency.valueAtPercentile(50))),
                ("p99Microseconds", .uint(latency.valueAtPercentile(99))),
                ("maxMicroseconds", .uint(latency.max)),
            ]))
        report.note(
            "          (measured from the record's createdAt, stamped as its group commit begins, so it includes the commit's own sync)"
        )
    }
}
