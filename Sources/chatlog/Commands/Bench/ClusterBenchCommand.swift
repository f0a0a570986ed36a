import ArgumentParser
import AsyncHTTPClient
import ChatServer
import EventLog
import EventLogJetStream
import Foundation
import NATS
import NIOPosix
import Synchronization

/// `chatlog bench cluster`: two nodes over a JetStream cluster, as `tools/cluster.sh up` runs
/// them. Cross-node delivery against same-node delivery, and failover against JetStream's own.
struct ClusterBenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cluster",
        abstract: "Cross-node delivery latency and failover on a running cluster (tools/bench-cluster.sh).",
        discussion: """
            Needs the cluster of tools/cluster.sh: its directory gives the JWT secret and the \
            nats-servers' pid files. At each rate, in one run: REST POST on the first node to a \
            WebSocket frame on the same node, then on the second node. With --failover, last: \
            posters write to both nodes while the server leading their channel's stream is killed \
            (SIGKILL; it stays down), beside raw js_Publish to a stream that server also leads.
            """)

    @Option(help: "The directory of tools/cluster.sh.") var clusterDir = "./cluster"
    @Option(help: "The two nodes' base URLs, comma-separated.") var nodes =
        "http://127.0.0.1:8081,http://127.0.0.1:8082"
    @Option(help: "The cluster's servers, comma-separated.") var nats =
        "nats://127.0.0.1:4222,nats://127.0.0.1:4223,nats://127.0.0.1:4224"
    @Option(help: "The nodes' nats.prefix.") var prefix = "chatlog"
    @Option(help: "Messages per second for the latency runs, comma-separated.") var rates = "100,1000"
    @Option(help: "Seconds of each latency run.") var seconds = 5.0
    @Flag(help: "Kill the NATS server leading a channel's stream under load, and time the failover.")
    var failover = false
    @Flag(help: "Print JSON.") var json = false

    func run() async throws {
        let ports = nodes.split(separator: ",").compactMap { URL(string: String($0))?.port }
        guard ports.count == 2 else { throw ValidationError("--nodes takes two base URLs with ports") }
        let secret = try String(contentsOfFile: clusterDir + "/jwt-secret", encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let http = HTTPClient(
            eventLoopGroupProvider: .singleton,
            configuration: .init(
                connectionPool: .init(
                    idleTimeout: .seconds(20), concurrentHTTP1ConnectionsPerHostSoftLimit: 64)))
        let token = try await TokenAuthority(secret: secret).mint(user: "bench", ttl: .seconds(3600))
        let api = BenchAPI(http: http, port: ports[0], token: token)
        do {
            var report = BenchReport()
            report.note(
                "chatlog bench cluster: \(buildConfiguration) build, \(ProcessInfo.processInfo.activeProcessorCount) cores; 3 nats-servers, 2 nodes, this client: all on this machine"
            )
            for rate in rates.split(separator: ",").compactMap({ Int($0) }) {
                let same = try await api.latency(
                    rate: rate, seconds: seconds, label: "same", key: "sameNode\(rate)", into: &report)
                let cross = try await api.latency(
                    rate: rate, seconds: seconds, subscribePort: ports[1], label: "cross",
                    key: "crossNode\(rate)",
                    into: &report)
                report.add(
                    String(
                        format: "          cross-node / same-node at %d msg/s: p50 %.2fx  p99 %.2fx", rate,
                        Double(cross.p50) / Double(max(same.p50, 1)),
                        Double(cross.p99) / Double(max(same.p99, 1))),
                    key: "crossOverSame\(rate)",
                    .object([
                        ("p50", .double(Double(cross.p50) / Double(max(same.p50, 1)))),
                        ("p99", .double(Double(cross.p99) / Double(max(same.p99, 1)))),
                    ]))
            }
            if failover { try await measureFailover(api, otherPort: ports[1], into: &report) }
            if json { Console.out(report.json.text) }
        } catch {
            try? await http.shutdown()
            throw error
        }
        try await http.shutdown()
    }

    // MARK: Failover

    /// One post's fate: when it was sent and answered, relative to the kill, and how.
    struct Outcome: Sendable {
        var sent: Duration
        var answered: Duration
        var status: Int
        var code: String?
    }

    private func measureFailover(_ api: BenchAPI, otherPort: Int, into report: inout BenchReport) async throws
    {
        let connection = try NATSConnection(
            servers: nats.split(separator: ",").map(String.init), name: "bench-failover")
        defer { connection.close() }
        let channel = try await api.createChannel()
        let other = BenchAPI(http: api.http, port: otherPort, token: api.token)
        while try await other.call(.GET, "/v1/channels/\(channel)").status != 200 {
            try await Task.sleep(for: .milliseconds(5))
        }
        // The stream that holds the channel's shard, and the server leading it.
        let layout = JetStreamLayout(prefix: prefix)
        var shardCount = 0
        while try connection.streamState(
            layout.streamName(ShardKey(stream: .chatEvents, shard: ShardID(shardCount))))
            != nil
        {
            shardCount += 1
        }
        guard shardCount > 0 else { throw BenchFailure("no \(prefix)_chat_events_* stream on the cluster") }
        let shard = ShardKey(
            stream: .chatEvents, shard: Partitioner.shard(for: channel, shardCount: shardCount))
        guard let leader = try connection.streamState(layout.streamName(shard))?.leader else {
            throw BenchFailure("the cluster names no leader for \(layout.streamName(shard))")
        }
        let pid = try pidOf(leader)
        // The yardstick: raw publishes to a scratch stream the same server leads.
        let scratch = try scratchStream(led: leader, connection: connection)
        defer { _ = try? connection.deleteStream(scratch.name) }

        let killAt = ContinuousClock.now + .seconds(2)
        let stopAt = killAt + .seconds(10)
        // Blocking publishes: on a thread of the pool, not the cooperative one.
        let raw = Task {
            try await NIOThreadPool.singleton.runIfActive {
                rawPublishes(scratch, connection: connection, killAt: killAt, until: stopAt)
            }
        }
        let outcomes = try await withThrowingTaskGroup(of: [Outcome].self) { posters in
            for poster in 0..<16 {
                let node = poster.isMultiple(of: 2) ? api : other
                posters.addTask {
                    var outcomes: [Outcome] = []
                    var index = 0
                    while ContinuousClock.now < stopAt {
                        let sent = ContinuousClock.now
                        let answer = try? await node.call(
                            .POST, "/v1/channels/\(channel)/messages",
                            body: "{\"text\":\"f\(poster)-\(index)\"}", timeout: .seconds(15))
                        index += 1
                        outcomes.append(
                            Outcome(
                                sent: sent - killAt, answered: ContinuousClock.now - killAt,
                                status: answer?.status ?? 0,
                                code: (answer?.body["error"] as? [String: Any])?["code"] as? String))
                        if answer == nil { try await Task.sleep(for: .milliseconds(10)) }
                    }
                    return outcomes
                }
            }
            posters.addTask {
                try await Task.sleep(until: killAt)
                kill(pid, SIGKILL)
                return []
            }
            return try await posters.reduce(into: []) { $0 += $1 }
        }
        let rawFirst = try await raw.value
        let accepted = outcomes.filter { $0.status == 201 && $0.sent >= .zero }.map(\.answered).min()
        let before = outcomes.filter { $0.sent < .zero }
        let between = outcomes.filter { $0.status != 201 && $0.answered >= .zero }
        var errors: [String: Int] = [:]
        for outcome in between {
            errors[
                outcome.status == 0 ? "no answer" : "\(outcome.status) \(outcome.code ?? "")", default: 0] +=
                1
        }
        let seconds = { (duration: Duration?) in duration.map { $0 / .seconds(1) } ?? .nan }
        let errorText = errors.sorted { $0.key < $1.key }.map { "\($0.value) × \($0.key)" }.joined(
            separator: ", ")
        report.add(
            "failover  killed \(leader) (leader of \(layout.streamName(shard))): "
                + String(
                    format:
                        "first 201 of a post sent after the kill %.2f s later; raw js_Publish to a stream it also led: %.2f s (%.2fx)",
                    seconds(accepted), seconds(rawFirst), seconds(accepted) / seconds(rawFirst)),
            key: "failover",
            .object([
                ("firstAcceptedSeconds", .double(seconds(accepted))),
                ("rawPublishSeconds", .double(seconds(rawFirst))),
                ("acceptedBeforeKill", .int(Int64(before.filter { $0.status == 201 }.count))),
                (
                    "acceptedAfterKill",
                    .int(Int64(outcomes.filter { $0.status == 201 && $0.answered >= .zero }.count))
                ),
                (
                    "errors",
                    .object(errors.sorted { $0.key < $1.key }.map { ($0.key, .int(Int64($0.value))) })
                ),
            ]))
        report.note("          errors clients saw after the kill: \(errorText.isEmpty ? "none" : errorText)")
    }

    /// The pid tools/cluster.sh noted for the server named `name`.
    private func pidOf(_ name: String) throws -> pid_t {
        let path = clusterDir + "/\(name).pid"
        guard let text = try? String(contentsOfFile: path, encoding: .utf8),
            let pid = pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines))
        else { throw BenchFailure("no pid file for \(name) at \(path)") }
        return pid
    }

    /// A scratch stream with the nodes' replicas whose leader is `leader` (the cluster places
    /// leaders itself: a few tries find one).
    private func scratchStream(led leader: String, connection: NATSConnection) throws -> StreamSpec {
        for attempt in 0..<12 {
            let spec = StreamSpec(
                name: "\(prefix)_failover_\(attempt)", subjects: ["\(prefix).failover.\(attempt)"],
                replicas: 3,
                duplicateWindow: .seconds(60))
            if try connection.ensureStream(spec).leader == leader { return spec }
            try connection.deleteStream(spec.name)
        }
        throw BenchFailure("no scratch stream got \(leader) as its leader in 12 tries")
    }
}

/// Publishes to `stream` in a loop until `end`; returns how long after `killAt` the first
/// publish sent after it was acknowledged.
private func rawPublishes(
    _ stream: StreamSpec, connection: NATSConnection, killAt: ContinuousClock.Instant,
    until end: ContinuousClock.Instant
) -> Duration? {
    let body = [UInt8](repeating: UInt8(ascii: "x"), count: 300)
    while ContinuousClock.now < end {
        let sent = ContinuousClock.now
        guard (try? connection.publish(subject: stream.subjects[0], data: body)) != nil else { continue }
        if sent >= killAt { return ContinuousClock.now - killAt }
    }
    return nil
}
