import AsyncHTTPClient
import EventLog
import Foundation
import NIOCore
import NIOPosix

extension BenchAPI {
    /// Runs one latency level and returns its POST→frame p50 and p99 in microseconds.
    ///
    /// The frames come to a subscriber of `subscribePort` (a node other than the one posted
    /// to), or of the same server; `label` starts the report's line.
    @discardableResult
    func latency(
        rate: Int, seconds: Double, subscribePort: Int? = nil, label: String = "latency", key: String? = nil,
        into report: inout BenchReport
    ) async throws -> (p50: UInt64, p99: UInt64) {
        let api = self
        let channel = try await api.createChannel()
        if let subscribePort {
            // The other node shows the channel once it has folded it.
            let other = BenchAPI(http: http, port: subscribePort, token: token)
            while try await other.call(.GET, "/v1/channels/\(channel)").status != 200 {
                try await Task.sleep(for: .milliseconds(5))
            }
        }
        let count = Int(Double(rate) * seconds)
        let timings = LatencyTimings(count: count)
        let (done, finish) = AsyncStream<Void>.makeStream()
        let (subscribed, subscribedNow) = AsyncStream<Void>.makeStream()
        let socket = try await BenchWebSocketClient.connect(
            group: MultiThreadedEventLoopGroup.singleton, port: subscribePort ?? api.port, token: api.token
        ) { payload in
            if WebSocketBenchCommand.isSubscribed(payload) { subscribedNow.yield() }
            guard let index = WebSocketBenchCommand.messageIndex(in: payload), index < count else { return }
            let now = DispatchTime.now().uptimeNanoseconds
            if let committed = WebSocketBenchCommand.createdAt(in: payload) {
                timings.delivered(
                    afterCommitMicroseconds: Timestamp.now().microseconds - committed.microseconds)
            }
            if timings.received(index, at: now) { finish.yield() }
        }
        BenchWebSocketClient.send(WebSocketBenchCommand.subscribeFrame(channel), on: socket)
        for await _ in subscribed { break }
        let answered = try await Self.pacedPosts(
            count: count, rate: rate, port: api.port, path: "/v1/channels/\(channel)/messages",
            headers: [("Authorization", "Bearer \(api.token)")], timings: timings)
        for await _ in done { break }
        try await socket.close()
        let histogram = timings.histogram
        let posts = timings.postHistogram
        let commits = timings.commitHistogram
        let line =
            label.padding(toLength: 9, withPad: " ", startingAt: 0)
            + String(
                format:
                    " %6d msg/s for %.0f s, REST POST sent to WebSocket frame received: p50 %5d µs  p99 %6d µs  max %6d µs",
                rate, seconds, histogram.valueAtPercentile(50), histogram.valueAtPercentile(99), histogram.max
            )
        report.add(
            line, key: key ?? "latency\(rate)",
            .object([
                ("messagesPerSecond", .int(Int64(rate))), ("messages", .uint(histogram.totalCount)),
                ("p50Microseconds", .uint(histogram.valueAtPercentile(50))),
                ("p99Microseconds", .uint(histogram.valueAtPercentile(99))),
                ("maxMicroseconds", .uint(histogram.max)),
                ("postP50Microseconds", .uint(posts.valueAtPercentile(50))),
                ("postP99Microseconds", .uint(posts.valueAtPercentile(99))),
                ("commitToFrameP50Microseconds", .uint(commits.valueAtPercentile(50))),
                ("commitToFrameP99Microseconds", .uint(commits.valueAtPercentile(99))),
            ]))
        report.note(
            String(
                format:
                    "          of which the POST itself (201 after the durable commit): p50 %5d µs  p99 %6d µs; all %d answered in %.1f s (%.0f/s)",
                posts.valueAtPercentile(50), posts.valueAtPercentile(99), count, answered,
                Double(count) / answered))
        report.note(
            String(
                format:
                    "          from the message's commit (its createdAt) to the frame: p50 %5d µs  p99 %6d µs",
                commits.valueAtPercentile(50), commits.valueAtPercentile(99)))
        return (histogram.valueAtPercentile(50), histogram.valueAtPercentile(99))
    }

    /// POSTs `count` messages at `rate` a second, each on its own task as independent clients'
    /// requests arrive, on up to 64 connections; each must be answered 201. Returns the seconds
    /// until the last answer.
    static func pacedPosts(
        count: Int, rate: Int, port: Int, path: String, headers: [(String, String)], timings: LatencyTimings
    ) async throws -> Double {
        let poster = try await BenchHTTPClient(port: port, count: 64)
        let interval = Duration.seconds(1) / rate
        let start = ContinuousClock.now
        do {
            try await withThrowingTaskGroup(of: Void.self) { posts in
                var next = 0
                while next < count {
                    let due = Int(((ContinuousClock.now - start) / interval).rounded(.down)) + 1
                    while next < min(due, count) {
                        let index = next
                        posts.addTask {
                            let sent = DispatchTime.now().uptimeNanoseconds
                            timings.sent(index, at: sent)
                            let status = try await poster.post(
                                path, body: "{\"text\":\"\(index)\"}", headers: headers)
                            guard status == 201 else { throw BenchFailure("POST \(path) answered \(status)") }
                            timings.answered(after: DispatchTime.now().uptimeNanoseconds - sent)
                        }
                        next += 1
                    }
                    if next < count { try await Task.sleep(until: start + interval * next, tolerance: .zero) }
                }
                try await posts.waitForAll()
            }
        } catch {
            await poster.close()
            throw error
        }
        await poster.close()
        return (ContinuousClock.now - start) / .seconds(1)
    }
}
