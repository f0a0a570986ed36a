import Consumers
import EventLog
import Prometheus
import Synchronization

/// Consumer groups in Prometheus: lag per group and shard (records and age of the oldest
/// unprocessed record) as gauges, and processed records, retries, dead letters and refused
/// checkpoints per group as counters.
final class ConsumerMetrics: ScrapedMetrics {
    private let storage: any LogBackend
    private let registry: PrometheusCollectorRegistry
    private let groups: [(name: String, status: ConsumerStatus)]
    private let gauges = Mutex<[String: Gauge]>([:])
    private let counters = Mutex<[String: TotalCounter]>([:])

    init(
        storage: any LogBackend, registry: PrometheusCollectorRegistry,
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

    /// Brings a group's counter (named `…_total`) up to the total the group reports.
    private func count(_ name: String, _ help: String, group: String, total: UInt64) {
        let counter = counters.withLock { counters in
            let key = name + "/" + group
            if let counter = counters[key] { return counter }
            let counter = TotalCounter(
                registry.makeCounter(
                    descriptor: .init(
                        namespace: "chatlog", subsystem: "consumer", metricName: name, unitName: "total",
                        helpText: help),
                    labels: [("group", group)]))
            counters[key] = counter
            return counter
        }
        counter.advance(to: total)
    }

    /// Refreshes the gauges and counters (called on each scrape).
    func update() async {
        // Only the groups this server runs: a stored group's name may have been chosen by any
        // caller, and /metrics is unauthenticated.
        let checkpoints = ((try? await storage.checkpoints()) ?? []).filter { checkpoint in
            groups.contains { $0.name == checkpoint.group }
        }
        let now = Timestamp.now()
        for checkpoint in checkpoints {
            let shard = ShardKey(stream: checkpoint.stream, shard: checkpoint.shard)
            guard let info = try? await storage.shardInfo(shard) else { continue }
            let labels = [
                ("group", checkpoint.group), ("stream", shard.stream.rawValue),
                ("shard", String(shard.shard)),
            ]
            gauge("lag_records", "Records appended but not yet processed", labels)
                .set(Double(info.head > checkpoint.seq ? info.head - checkpoint.seq : 0))
            let oldest = (try? await storage.loadNext(shard, after: checkpoint.seq, limit: 1, maxBytes: 1))?
                .first
            gauge("lag_seconds", "Age of the oldest unprocessed record", labels)
                .set(oldest.map { Double(now.microseconds - $0.createdAt.microseconds) / 1e6 } ?? 0)
        }
        for (name, status) in groups {
            let shards = status.snapshot.values
            count(
                "processed_records", "Records the group handled", group: name,
                total: shards.reduce(0) { $0 + $1.processed })
            count("retries", "Handler retries", group: name, total: shards.reduce(0) { $0 + $1.retries })
            count(
                "dead_letters", "Records the group dead-lettered", group: name,
                total: shards.reduce(0) { $0 + $1.deadLettered })
            count(
                "checkpoints_refused", "Checkpoints the full log refused", group: name,
                total: shards.reduce(0) { $0 + $1.checkpointsRefused })
        }
    }
}
