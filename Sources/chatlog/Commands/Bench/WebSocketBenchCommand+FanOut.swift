import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

extension WebSocketBenchCommand {
    /// Connects `subscribers` sockets to one channel, reports the server's memory per idle
    /// subscribed connection, then fans `messages` messages out to all of them.
    func fanOut(_ api: BenchAPI, server: BenchServer, into report: inout BenchReport) async throws {
        let channel = try await api.createChannel()
        let target = subscribers * messages
        let counts = FanOutCounts()
        let (allSubscribed, subscribedNow) = AsyncStream<Void>.makeStream()
        let (allDelivered, deliveredNow) = AsyncStream<Void>.makeStream()
        let subscribers = subscribers
        let baseline = server.residentBytes
        let connectStarted = ContinuousClock.now
        let sockets = try await BenchWebSocketClient.connectMany(
            subscribers, port: api.port, token: api.token, sending: Self.subscribeFrame(channel)
        ) { payload in
            if Self.isMessage(payload) {
                if counts.delivered.add(1, ordering: .relaxed).newValue == target { deliveredNow.yield() }
            } else if Self.isSubscribed(payload) {
                if counts.subscribed.add(1, ordering: .relaxed).newValue == subscribers {
                    subscribedNow.yield()
                }
            }
        }
        for await _ in allSubscribed { break }
        let connectSeconds = (ContinuousClock.now - connectStarted) / .seconds(1)
        // Let allocations settle before reading the resident size.
        try await Task.sleep(for: .seconds(1))
        let loaded = server.residentBytes
        let perConnection = Double(loaded - baseline) / Double(subscribers)
        report.add(
            String(
                format:
                    "memory    %d idle subscribed connections: server RSS %.1f MiB -> %.1f MiB, %.1f KiB per connection (connected in %.1f s)",
                subscribers, Double(baseline) / 1_048_576, Double(loaded) / 1_048_576, perConnection / 1024,
                connectSeconds),
            key: "memory",
            .object([
                ("connections", .int(Int64(subscribers))), ("baselineBytes", .int(Int64(baseline))),
                ("loadedBytes", .int(Int64(loaded))),
                ("bytesPerConnection", .double(perConnection.rounded())),
            ]))

        let started = ContinuousClock.now
        let (serverCPU, clientCPU) = (server.cpuTime, Self.ownCPUTime)
        try await withThrowingTaskGroup(of: Void.self) { posts in
            for index in 0..<messages {
                posts.addTask { try await api.post("fan-out \(index)", in: channel) }
                if index % 4 == 3 { try await posts.next() }
            }
            try await posts.waitForAll()
        }
        for await _ in allDelivered { break }
        let elapsed = (ContinuousClock.now - started) / .seconds(1)
        let rate = Double(target) / elapsed
        // CPU per delivery is steadier than the rate on a machine whose speed drifts.
        let serverMicroseconds = (server.cpuTime - serverCPU) / .microseconds(1) / Double(target)
        let clientMicroseconds = (Self.ownCPUTime - clientCPU) / .microseconds(1) / Double(target)
        report.add(
            String(
                format:
                    "fan-out   %d messages to %d subscribers of one channel: %d deliveries in %.2f s, %10.0f deliveries/s",
                messages, subscribers, target, elapsed, rate),
            key: "fanOut",
            .object([
                ("messages", .int(Int64(messages))), ("subscribers", .int(Int64(subscribers))),
                ("deliveries", .int(Int64(target))), ("seconds", .double(elapsed)),
                ("deliveriesPerSecond", .double(rate.rounded())),
                ("serverCPUMicrosecondsPerDelivery", .double((serverMicroseconds * 100).rounded() / 100)),
                ("clientCPUMicrosecondsPerDelivery", .double((clientMicroseconds * 100).rounded() / 100)),
            ]))
        report.note(
            String(
                format: "          CPU per delivery: server %.2f µs, the bench's clients %.2f µs",
                serverMicroseconds, clientMicroseconds))
        // Closed before anything else runs, so the server no longer counts them.
        for socket in sockets { try? await socket.close() }
    }

    /// The CPU time this process, the benchmark's clients, has used.
    private static var ownCPUTime: Duration {
        var usage = rusage()
        getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
        return .seconds(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec)
            + .microseconds(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec)
    }
}

extension WebSocketBenchCommand {
    /// Holds `idle` authenticated WebSocket connections open, with no subscription and no
    /// traffic, reports the server's memory per connection, and runs the latency level `rate`
    /// again beside them: the figure is its p99 over the p99 without them.
    func idleLoad(
        _ api: BenchAPI, server: BenchServer, rate: Int, p99Without: UInt64, into report: inout BenchReport
    ) async throws {
        let counts = FanOutCounts()
        let (allAnswered, answeredNow) = AsyncStream<Void>.makeStream()
        let idle = idle
        let baseline = server.residentBytes
        let sockets = try await BenchWebSocketClient.connectMany(
            idle, port: api.port, token: api.token, sending: "{\"type\":\"ping\"}"
        ) { _ in
            if counts.subscribed.add(1, ordering: .relaxed).newValue == idle { answeredNow.yield() }
        }
        for await _ in allAnswered { break }
        try await Task.sleep(for: .seconds(1))
        let perConnection = Double(server.residentBytes - baseline) / Double(idle)
        let p99 = try await latency(api, rate: rate, key: "latency\(rate)WithIdle", into: &report)
        let ratio = Double(p99) / Double(max(p99Without, 1))
        report.add(
            String(
                format:
                    "idle      %d idle connections held open: %.1f KiB each; POST->frame p99 at %d msg/s %d µs beside them, %d µs without: %.2fx",
                idle, perConnection / 1024, rate, p99, p99Without, ratio),
            key: "idle",
            .object([
                ("connections", .int(Int64(idle))), ("bytesPerConnection", .double(perConnection.rounded())),
                ("p99Microseconds", .uint(p99)), ("p99MicrosecondsWithout", .uint(p99Without)),
                ("p99Ratio", .double((ratio * 100).rounded() / 100)),
            ]))
        for socket in sockets { socket.close(promise: nil) }
    }
}

extension WebSocketBenchCommand {
    /// The same idle connections on a bare Hummingbird WebSocket route: the framework's own cost.
    func bareMemory(into report: inout BenchReport) async throws {
        let server = try BenchServer(arguments: ["debug", "ws-echo-server", "--port", "0"])
        defer { server.stop() }
        let counts = FanOutCounts()
        let (allAnswered, answeredNow) = AsyncStream<Void>.makeStream()
        let subscribers = subscribers
        let baseline = server.residentBytes
        let sockets = try await BenchWebSocketClient.connectMany(
            subscribers, port: server.port, token: "none", sending: "{\"type\":\"subscribe\"}"
        ) { _ in
            if counts.subscribed.add(1, ordering: .relaxed).newValue == subscribers { answeredNow.yield() }
        }
        for await _ in allAnswered { break }
        try await Task.sleep(for: .seconds(1))
        let loaded = server.residentBytes
        let perConnection = Double(loaded - baseline) / Double(subscribers)
        report.add(
            String(
                format:
                    "bare      %d idle connections on a bare Hummingbird WebSocket route: %.1f KiB per connection",
                subscribers, perConnection / 1024),
            key: "bareMemory",
            .object([
                ("connections", .int(Int64(subscribers))),
                ("bytesPerConnection", .double(perConnection.rounded())),
            ]))
        for socket in sockets { socket.close(promise: nil) }
    }
}

/// What the fan-out's sockets have received, across event loops.
final class FanOutCounts: Sendable {
    let subscribed = Atomic<Int>(0)
    let delivered = Atomic<Int>(0)
}

/// The REST calls the WebSocket benchmark makes.
struct BenchAPI: Sendable {
    let http: HTTPClient
    let port: Int
    let token: String

    func createChannel() async throws -> String {
        let body = try await request("/v1/channels", body: "{\"name\":\"bench\"}")
        guard let channel = (body["channel"] as? [String: Any])?["id"] as? String else {
            throw BenchFailure("could not create a channel: \(body)")
        }
        return channel
    }

    func post(_ text: String, in channel: String) async throws {
        _ = try await request("/v1/channels/\(channel)/messages", body: "{\"text\":\"\(text)\"}")
    }

    /// Any call: the status and the body as JSON (an object; empty when there is none).
    func call(
        _ method: HTTPMethod, _ path: String, body: String? = nil, headers: [(String, String)] = [],
        timeout: TimeAmount = .seconds(30)
    ) async throws -> (status: Int, body: [String: Any]) {
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)\(path)")
        request.method = method
        request.headers.add(name: "Authorization", value: "Bearer \(token)")
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(string: body))
        }
        let response = try await http.execute(request, timeout: timeout)
        let bytes = try await response.body.collect(upTo: 4 << 20)
        let json = (try? JSONSerialization.jsonObject(with: Data(buffer: bytes))) as? [String: Any] ?? [:]
        return (Int(response.status.code), json)
    }

    private func request(_ path: String, body: String) async throws -> [String: Any] {
        let (status, json) = try await call(.POST, path, body: body)
        guard status == 201 else { throw BenchFailure("POST \(path) answered \(status): \(json)") }
        return json
    }
}
