import Chat
import Consumers
import EventLog
import Hummingbird
import JSONCoding
import Prometheus
import Synchronization

/// Whether the server may take traffic: once it listens with the log open (`set`), and every
/// consumer group it was told to wait for runs on all of its shards.
public final class Readiness: Sendable {
    private struct Group {
        let name: String
        let status: ConsumerStatus
        let shards: Int
    }

    private let ready = Atomic<Bool>(false)
    private let groups = Mutex<[Group]>([])

    public init() {}

    /// What the server still waits for: "listener", then the names of groups not yet running.
    public var waitingFor: [String] {
        guard ready.load(ordering: .acquiring) else { return ["listener"] }
        return groups.withLock { groups in
            groups.filter { group in
                group.status.snapshot.values.count(where: \.running) < group.shards
            }.map(\.name)
        }
    }

    public func set(_ value: Bool) { ready.store(value, ordering: .releasing) }

    /// Makes readiness wait until the group runs on all `shards` of its stream; a shard that
    /// stops (or fails) makes the server unready again.
    public func require(group name: String, status: ConsumerStatus, shards: Int) {
        groups.withLock { $0.append(Group(name: name, status: status, shards: shards)) }
    }
}

/// `/v1/health`, `/v1/ready`, `/metrics` and `/openapi.json`, none of which need credentials.
struct OperationsController {
    let readiness: Readiness
    let registry: PrometheusCollectorRegistry
    /// Metrics read from their sources on each scrape.
    let scraped: [any ScrapedMetrics]

    struct Status: JSONWritable {
        var status: String

        func write(to json: inout JSONText) {
            json.object { $0.field("status", status) }
        }
    }

    func addRoutes(to router: Router<ChatRequestContext>) {
        router.get("v1/health") { _, _ in JSONResponse(body: Status(status: "ok")) }
        router.get("v1/ready") { _, _ in
            let waitingFor = readiness.waitingFor
            guard waitingFor.isEmpty else {
                throw APIError(
                    .serviceUnavailable, code: "not_ready", message: "the server is starting or stopping",
                    details: ["waitingFor": waitingFor.joined(separator: ", ")])
            }
            return JSONResponse(body: Status(status: "ready"))
        }
        router.get("metrics") { _, _ in
            for metrics in scraped { await metrics.update() }
            var buffer: [UInt8] = []
            registry.emit(into: &buffer)
            return Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(bytes: buffer)))
        }
        router.get("openapi.json") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "application/json; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(string: OpenAPISpec.json)))
        }
    }
}

/// Metrics brought up to date when `/metrics` is scraped, rather than as things happen.
protocol ScrapedMetrics: Sendable {
    func update() async
}

/// The log's figures in Prometheus, fed by each group commit as it happens: the records
/// appended and the commits made (counters), and each commit's time to write and sync and the
/// records it appended (histograms, whose sums and counts give totals and averages).
enum LogMetrics {
    static func observe(_ storage: any LogBackend, registry: PrometheusCollectorRegistry) {
        let appended = registry.makeCounter(
            descriptor: .init(
                namespace: "chatlog", subsystem: "log", metricName: "appended_records", unitName: "total",
                helpText: "Records appended to the log"))
        let commits = registry.makeCounter(
            descriptor: .init(
                namespace: "chatlog", subsystem: "log", metricName: "commits", unitName: "total",
                helpText: "Group commits"))
        let duration = registry.makeDurationHistogram(
            descriptor: .init(
                namespace: "chatlog", subsystem: "log", metricName: "commit_duration", unitName: "seconds",
                helpText: "Time to write and sync each group commit"),
            buckets: [0.25, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10, 25, 50, 100, 250, 1000].map {
                .microseconds(Int64($0 * 1000))
            })
        let records = registry.makeValueHistogram(
            descriptor: .init(
                namespace: "chatlog", subsystem: "log", metricName: "commit", unitName: "records",
                helpText: "Records each group commit appended"),
            buckets: [0, 1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096])
        storage.observeCommits { commit in
            appended.increment(by: Int64(commit.records))
            commits.increment()
            duration.record(commit.duration)
            records.record(Double(commit.records))
        }
    }
}
