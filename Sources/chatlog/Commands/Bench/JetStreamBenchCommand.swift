import ArgumentParser
import EventLog
import EventLogJetStream
import Foundation
import LogBackends
import NATS
import NIOPosix

/// Durable appends on JetStream beside the engine's own ceiling and the LMDB backend, in one run.
struct JetStreamBenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "jetstream",
        abstract: "Appends over JetStream against raw js_Publish of the same records and against LMDB.",
        discussion: """
            Needs a running cluster (tools/cluster.sh up). At each concurrency, in one run: raw \
            publishes of the records' bytes to a scratch stream with the same replicas, appends \
            through the JetStream backend (published, then folded by this node), and appends to \
            LMDB in a temporary directory. Scratch streams are deleted afterwards.
            """)

    @Option(help: "The cluster's servers, comma-separated.") var nats = "nats://127.0.0.1:4222"
    @Option(help: "Concurrent appenders, comma-separated.") var appenders = "16,256"
    @Option(help: "Seconds per measurement.") var seconds = 3.0
    @Option(help: "Stream replicas.") var replicas = 3
    @Flag(help: "Print JSON.") var json = false

    func run() async throws {
        let levels = appenders.split(separator: ",").compactMap { Int($0) }
        var settings = JetStreamSettings(servers: nats.split(separator: ",").map(String.init))
        settings.replicas = replicas
        settings.prefix = "bench" + UUID().uuidString.prefix(8).lowercased()
        settings.publishConcurrency = levels.max() ?? 64
        var configuration = LogConfiguration.chatlog
        configuration.backend = .jetStream(settings)
        let workload = LogWorkload(payloadBytes: 200, channels: 1000)
        var report = BenchReport()
        report.note("jetstream bench (\(buildConfiguration)), R\(replicas), \(seconds) s per figure")
        _ = try JetStreamStorage.apply(configuration: configuration, settings: settings)
        defer { _ = try? JetStreamStorage.removeStreams(configuration: configuration, settings: settings) }
        let connection = try NATSConnection(servers: settings.servers, name: "bench")
        defer { connection.close() }
        let raw = StreamSpec(
            name: settings.prefix + "_raw", subjects: [settings.prefix + ".raw"], replicas: replicas,
            duplicateWindow: .seconds(120))
        try connection.ensureStream(raw)
        defer { _ = try? connection.deleteStream(raw.name) }
        let body = Array(repeating: UInt8(ascii: "x"), count: workload.storedRecordBytes)
        let pool = NIOThreadPool(numberOfThreads: settings.publishConcurrency)
        pool.start()
        let directory = NSTemporaryDirectory() + "chatlog-bench-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let jetStream = try LogBackends.open(directory: directory + "/js", configuration: configuration)
        defer { jetStream.close() }
        let lmdb = try LogBackends.open(directory: directory + "/lmdb", configuration: .chatlog)
        defer { lmdb.close() }
        var rows: [JSONOutput] = []
        for level in levels {
            let rawRate = try await measure(level) { _ in
                _ = try await pool.runIfActive {
                    try connection.publish(subject: raw.subjects[0], data: body)
                }
            }
            let jetStreamRate = try await measure(level) {
                _ = try await jetStream.append(workload.request($0))
            }
            let lmdbRate = try await measure(level) { _ = try await lmdb.append(workload.request($0)) }
            report.note(
                String(
                    format:
                        "appenders=%-4d raw js_Publish %8.0f/s  chatlog on JetStream %8.0f/s (%.2f of raw)  LMDB %8.0f/s (%.2f of LMDB)",
                    level, rawRate, jetStreamRate, jetStreamRate / rawRate, lmdbRate, jetStreamRate / lmdbRate
                ))
            rows.append(
                .object([
                    ("appenders", .int(Int64(level))), ("rawPublishPerSecond", .double(rawRate.rounded())),
                    ("jetStreamAppendsPerSecond", .double(jetStreamRate.rounded())),
                    ("lmdbAppendsPerSecond", .double(lmdbRate.rounded())),
                    ("ofRaw", .double(jetStreamRate / rawRate)),
                    ("ofLMDB", .double(jetStreamRate / lmdbRate)),
                ]))
        }
        try await pool.shutdownGracefully()
        report.add(nil, key: "appends", .array(rows))
        if json { Console.out(report.json.text) }
    }

    /// Operations per second from `level` concurrent tasks, each awaiting one before the next.
    private func measure(_ level: Int, _ operation: @escaping @Sendable (Int) async throws -> Void)
        async throws
        -> Double
    {
        let started = ContinuousClock.now
        let deadline = started + .milliseconds(Int(seconds * 1000))
        let count = try await withThrowingTaskGroup(of: Int.self) { group in
            for task in 0..<level {
                group.addTask {
                    var done = 0
                    var index = task
                    while ContinuousClock.now < deadline {
                        try await operation(index)
                        done += 1
                        index += level
                    }
                    return done
                }
            }
            return try await group.reduce(0, +)
        }
        return Double(count) / ((ContinuousClock.now - started) / .seconds(1))
    }
}
