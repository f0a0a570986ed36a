import Consumers
import EventLog
import Prometheus
import Synchronization

/// Consumer groups in Prometheus: lag per group and shard (records and age of the oldest
/// unprocessed record), and processed records, retries, dead letters and refused checkpoints
/// per group.
final class ConsumerMetrics: Sendable {
    private let storage: LMDBStorage
    private let registry: PrometheusCollectorRegistry
    private let groups: [(name: String, status: ConsumerStatus)]
    private let gauges = Mutex<[String: Gauge]>([:])

    init(
        storage: LMDBStorage, registry: PrometheusCollectorRegistry,
        groups: [(name: String, status: ConsumerStatus)]
    ) {
        self.storage = storage
        self.registry = registry
        self.groups = groups
    }

    private func gauge(_ name: String, _ help: String, _ labels: [(String, String)]) -> Gauge {
        let key = name + labels.map { "\($0.0)=\($0.1)" }.joined(separator: ",")
        return gauges.withLock { gauges in
            if let gauge = gauges[key] { return gauge }
            let gauge = registry.makeGauge(
                descriptor: .init(
                    namespace: "chatlog", subsystem: "consumer", metricName: name, unitName: "",
                    helpText: help),
                labels: labels)
            gauges[key] = gauge
            return gauge
        }
    }

    /// Refreshes the gauges (called on each scrape).
    func update() {
        let checkpoints = (try? storage.checkpoints()) ?? []
        let now = Timestamp.now()
        for checkpoint in checkpoints {
            let shard = ShardKey(stream: checkpoint.stream, shard: checkpoint.shard)
            guard let info = try? storage.shardInfo(shard) else { continue }
            let labels = [
                ("group", checkpoint.group), ("stream", shard.stream.rawValue),
                ("shard", String(shard.shard)),
            ]
            gauge("lag_records", "Records appended but not yet processed", labels)
                .set(Double(info.head > checkpoint.seq ? info.head - checkpoint.seq : 0))
            let oldest = (try? storage.loadNext(shard, after: checkpoint.seq, limit: 1, maxBytes: 1))?.first
            gauge("lag_seconds", "Age of the oldest unprocessed record", labels)
                .set(oldest.map { Double(now.microseconds - $0.createdAt.microseconds) / 1e6 } ?? 0)
        }
        for (name, status) in groups {
            let shards = status.snapshot.values
            let labels = [("group", name)]
            gauge("processed_records", "Records handled since start", labels).set(
                Double(shards.reduce(0) { $0 + $1.processed }))
            gauge("retries", "Handler retries since start", labels).set(
                Double(shards.reduce(0) { $0 + $1.retries }))
            gauge("dead_letters", "Records dead-lettered since start", labels).set(
                Double(shards.reduce(0) { $0 + $1.deadLettered }))
            gauge("checkpoints_refused", "Checkpoints the full log refused since start", labels).set(
                Double(shards.reduce(0) { $0 + $1.checkpointsRefused }))
        }
    }
}
