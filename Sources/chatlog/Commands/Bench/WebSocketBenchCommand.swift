import ArgumentParser
import AsyncHTTPClient
import ChatServer
import EventLog
import Foundation
import Histogram
import NIOCore
import NIOPosix
import Synchronization

/// `chatlog bench ws`: WebSocket delivery against a `chatlog serve` child process — REST POST
/// to WebSocket receive latency at steady rates, fan-out of messages to many subscribers of one
/// channel, and the server's resident memory per idle subscribed connection.
struct WebSocketBenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ws",
        abstract: "Benchmark WebSocket delivery: latency, fan-out and memory per connection.")

    @Option(help: "Comma-separated messages per second for the latency runs.") var rates: String =
        "1000,10000"
    @Option(help: "Seconds of each latency run.") var seconds: Double = 5
    @Option(help: "Subscribers of one channel for the fan-out and memory runs (0 skips them).")
    var subscribers: Int = 10_000
    @Option(help: "Messages fanned out to every subscriber.") var messages: Int = 100
    @Option(
        help:
            "Idle WebSocket connections held open during a second latency run at the first rate (0 skips)."
    )
    var idle: Int = 0
    @Flag(help: "Print the figures as one JSON object on standard output.") var json = false
    @Flag(
        help:
            "Also measure memory per idle connection on a bare Hummingbird WebSocket server, as the yardstick."
    )
    var bare = false

    func run() async throws {
        let server = try BenchServer()
        defer { server.stop() }
        let http = HTTPClient(
            eventLoopGroupProvider: .singleton,
            configuration: .init(
                connectionPool: .init(
                    // Shorter than the server's idle timeout (30 s), so it never reuses one the
                    // server is closing.
                    idleTimeout: .seconds(20), concurrentHTTP1ConnectionsPerHostSoftLimit: 64)))
        do {
            try await measure(server, http: http)
        } catch {
            try? await http.shutdown()
            throw error
        }
        try await http.shutdown()
    }

    func validate() throws {
        _ = try levels()
        guard subscribers >= 0, idle >= 0 else {
            throw ValidationError("--subscribers and --idle are 0 or more")
        }
    }

    private func levels() throws -> [Int] {
        try rates.split(separator: ",").map { text in
            guard let rate = Int(text), rate > 0 else {
                throw ValidationError("--rates takes positive numbers separated by commas")
            }
            return rate
        }
    }

    private func measure(_ server: BenchServer, http: HTTPClient) async throws {
        let api = BenchAPI(
            http: http, port: server.port,
            token: try await TokenAuthority(secret: server.secret).mint(user: "bench", ttl: .seconds(3600)))
        var report = BenchReport()
        report.note(
            "chatlog bench ws: \(buildConfiguration) build, \(ProcessInfo.processInfo.activeProcessorCount) cores, server in a child process, clients in this one"
        )
        var p99s: [Int: UInt64] = [:]
        for rate in try levels() {
            p99s[rate] = try await latency(api, rate: rate, into: &report)
        }
        let echoP99s = try await durableEchoYardstick(rates: try levels(), into: &report)
        try rawCommitYardstick(p99s: p99s, echoP99s: echoP99s, into: &report)
        if subscribers > 0 { try await fanOut(api, server: server, into: &report) }
        if idle > 0, let rate = try levels().first {
            try await idleLoad(api, server: server, rate: rate, p99Without: p99s[rate] ?? 0, into: &report)
        }
        if bare { try await bareMemory(into: &report) }
        if json { Console.out(report.json.text) }
    }

    // MARK: Latency

    /// A bare Hummingbird route that puts each POST's answer into raw LMDB with a synced group
    /// commit before it answers (`debug echo-server`'s /echo-durable), paced as the latency runs:
    /// a durable POST's answer with nothing of chatlog in it. Returns each rate's p99.
    private func durableEchoYardstick(
        rates: [Int], into report: inout BenchReport
    ) async throws -> [Int: UInt64] {
        let directory = NSTemporaryDirectory() + "chatlog-bench-echo-" + UUID().uuidString.lowercased()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let server = try BenchServer(arguments: [
            "debug", "echo-server", "--port", "0", "--data-dir", directory,
        ])
        defer { server.stop() }
        var p99s: [Int: UInt64] = [:]
        for rate in rates {
            let count = Int(Double(rate) * seconds)
            let timings = LatencyTimings(count: count)
            let took = try await BenchAPI.pacedPosts(
                count: count, rate: rate, port: server.port, path: "/echo-durable", headers: [],
                timings: timings)
            let posts = timings.postHistogram
            p99s[rate] = posts.valueAtPercentile(99)
            report.add(
                String(
                    format:
                        "echo      %6d msg/s for %.0f s, bare Hummingbird POST storing its answer in raw LMDB, synced: p50 %5d µs  p99 %6d µs (%.0f/s)",
                    rate, seconds, posts.valueAtPercentile(50), posts.valueAtPercentile(99),
                    Double(count) / took),
                key: "durableEcho\(rate)",
                .object([
                    ("messagesPerSecond", .int(Int64(rate))),
                    ("p50Microseconds", .uint(posts.valueAtPercentile(50))),
                    ("p99Microseconds", .uint(posts.valueAtPercentile(99))),
                ]))
        }
        return p99s
    }

    /// Raw LMDB's synced one-record commit on the same disk, right after the latency runs: the
    /// floor under a durable message's trip, and each rate's p99 as a multiple of its p99 and
    /// of the durable echo's.
    private func rawCommitYardstick(
        p99s: [Int: UInt64], echoP99s: [Int: UInt64], into report: inout BenchReport
    ) throws {
        let directory = NSTemporaryDirectory() + "chatlog-bench-raw-" + UUID().uuidString.lowercased()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let raw = try RawLMDBBenchmark(
            valueBytes: LogWorkload(payloadBytes: 200, channels: 1000).storedRecordBytes,
            directory: directory,
            seconds: min(seconds, 3))
        let figures = try raw.measure(recordsPerCommit: 1)
        let rawP99 = max(1, figures.latency.valueAtPercentile(99))
        var fields = figures.json
        func rounded(_ ratio: Double) -> JSONOutput { .double((ratio * 100).rounded() / 100) }
        for rate in p99s.keys.sorted() {
            let ratio = Double(p99s[rate]!) / Double(rawP99)
            let echoP99 = Double(max(1, echoP99s[rate] ?? 1))
            report.note(
                String(
                    format:
                        "          at %d msg/s the POST→frame p99 is %.1fx the raw commit's p99 and %.2fx the durable echo's; the durable echo's is %.1fx the raw commit's",
                    rate, ratio, Double(p99s[rate]!) / echoP99, echoP99 / Double(rawP99)))
            fields.append(("p99OfRawCommitP99At\(rate)", rounded(ratio)))
            fields.append(("p99OfDurableEchoP99At\(rate)", rounded(Double(p99s[rate]!) / echoP99)))
            fields.append(("durableEchoP99OfRawCommitP99At\(rate)", rounded(echoP99 / Double(rawP99))))
        }
        report.add(figures.line, key: "rawLMDBCommit", .object(fields))
    }

    /// Runs one latency level and returns its POST→frame p99 in microseconds.
    @discardableResult
    func latency(_ api: BenchAPI, rate: Int, key: String? = nil, into report: inout BenchReport) async throws
        -> UInt64
    {
        try await api.latency(rate: rate, seconds: seconds, key: key, into: &report).p99
    }

    /// The number a latency message carries as its text (`"text":"123"`).
    static func messageIndex(in frame: ByteBufferView) -> Int? {
        let marker = Array("\"text\":\"".utf8)
        guard let range = frame.firstRange(of: marker) else { return nil }
        var value = 0
        var index = range.upperBound
        while index < frame.endIndex, let digit = frame[index].wholeNumberValue {
            value = value * 10 + digit
            index += 1
        }
        return index > range.upperBound ? value : nil
    }

    /// The message's `createdAt`: when its group commit began.
    static func createdAt(in frame: ByteBufferView) -> Timestamp? {
        let marker = Array("\"createdAt\":\"".utf8)
        guard let range = frame.firstRange(of: marker),
            let end = frame[range.upperBound...].firstIndex(of: 0x22)
        else { return nil }
        return Timestamp(rfc3339: String(decoding: frame[range.upperBound..<end], as: UTF8.self))
    }

    static func subscribeFrame(_ channel: String) -> String {
        "{\"type\":\"subscribe\",\"channelId\":\"\(channel)\"}"
    }

    static func isSubscribed(_ frame: ByteBufferView) -> Bool {
        frame.starts(with: "{\"type\":\"subscribed\"".utf8)
    }

    static func isMessage(_ frame: ByteBufferView) -> Bool {
        frame.starts(with: "{\"type\":\"message\"".utf8)
    }
}

extension UInt8 {
    fileprivate var wholeNumberValue: Int? {
        (0x30...0x39).contains(self) ? Int(self - 0x30) : nil
    }
}

/// When each latency message was sent and how long it took to arrive.
final class LatencyTimings: Sendable {
    private let sentAt: Mutex<[UInt64]>
    private let arrivals = Mutex((count: 0, histogram: Histogram<UInt64>(highestTrackableValue: 60_000_000)))
    private let expected: Int

    init(count: Int) {
        expected = count
        sentAt = Mutex([UInt64](repeating: 0, count: count))
    }

    func sent(_ index: Int, at nanoseconds: UInt64) {
        sentAt.withLock { $0[index] = nanoseconds }
    }

    /// Records an arrival; true once every message has arrived.
    func received(_ index: Int, at nanoseconds: UInt64) -> Bool {
        let sent = sentAt.withLock { $0[index] }
        return arrivals.withLock { arrivals in
            _ = arrivals.histogram.record((nanoseconds - min(sent, nanoseconds)) / 1000)
            arrivals.count += 1
            return arrivals.count == expected
        }
    }

    var histogram: Histogram<UInt64> { arrivals.withLock { $0.histogram } }

    private let answers = Mutex(Histogram<UInt64>(highestTrackableValue: 60_000_000))

    /// Records how long a POST took to be answered (201 after its commit).
    func answered(after nanoseconds: UInt64) {
        answers.withLock { _ = $0.record(nanoseconds / 1000) }
    }

    var postHistogram: Histogram<UInt64> { answers.withLock { $0 } }

    private let fromCommit = Mutex(Histogram<UInt64>(highestTrackableValue: 60_000_000))

    /// Records the time from a message's commit to its frame's arrival.
    func delivered(afterCommitMicroseconds microseconds: Int64) {
        fromCommit.withLock { _ = $0.record(UInt64(max(0, microseconds))) }
    }

    var commitHistogram: Histogram<UInt64> { fromCommit.withLock { $0 } }
}
