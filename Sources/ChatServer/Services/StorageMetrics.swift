import EventLog
import Prometheus

/// The log's storage in Prometheus, read on each scrape: how full the map is (a full map turns
/// writes into 503 `storage_full`), the data file's size, the reader slots in use, and the
/// records and bytes each stream keeps.
final class StorageMetrics: ScrapedMetrics {
    private let storage: any LogBackend
    private let mapSize: Gauge
    private let mapUsed: Gauge
    private let mapMax: Gauge
    private let fileSize: Gauge
    private let readers: Gauge
    private let maxReaders: Gauge
    private let streams: [(stream: StreamDescriptor, records: Gauge, bytes: Gauge)]

    init(storage: any LogBackend, registry: PrometheusCollectorRegistry) {
        self.storage = storage
        func gauge(_ name: String, _ help: String, _ labels: [(String, String)] = []) -> Gauge {
            registry.makeGauge(
                descriptor: MetricNameDescriptor(
                    namespace: "chatlog", subsystem: "log", metricName: name, unitName: "", helpText: help),
                labels: labels)
        }
        mapSize = gauge("map_size_bytes", "Size of the LMDB map now; it grows when full, up to the maximum")
        mapUsed = gauge("map_used_bytes", "Bytes of the map in use (up to the last page written)")
        mapMax = gauge(
            "map_max_bytes", "The configured maximum map size; writes past it fail with storage_full")
        fileSize = gauge("file_size_bytes", "Size of the data file on disk")
        readers = gauge("readers", "LMDB reader slots in use (by every process that has the log open)")
        maxReaders = gauge("max_readers", "LMDB reader slots")
        streams = storage.streams.map { stream in
            let labels = [("stream", stream.name.rawValue)]
            return (
                stream, gauge("stream_records", "Records the stream keeps", labels),
                gauge("stream_record_bytes", "Bytes of the records the stream keeps", labels)
            )
        }
    }

    func update() async {
        if let statistics = try? storage.statistics() {
            mapSize.set(Double(statistics.mapSize))
            mapUsed.set(Double(statistics.usedBytes))
            mapMax.set(Double(statistics.maxMapSize))
            fileSize.set(Double(statistics.fileSize))
            readers.set(Double(statistics.readers))
            maxReaders.set(Double(statistics.maxReaders))
        }
        for (stream, records, bytes) in streams {
            var (recordCount, byteCount): (UInt64, UInt64) = (0, 0)
            for shard in stream.shards {
                guard let info = try? await storage.shardInfo(shard) else { continue }
                recordCount += info.recordCount
                byteCount += info.bytes
            }
            records.set(Double(recordCount))
            bytes.set(Double(byteCount))
        }
    }
}
