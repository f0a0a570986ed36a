import Prometheus
import Synchronization

/// Request counts and latency by method, route template and status, in Prometheus.
final class RequestMetrics: Sendable {
    private let registry: PrometheusCollectorRegistry
    private let counters = Mutex<[String: Counter]>([:])
    private let histograms = Mutex<[String: DurationHistogram]>([:])
    private static let buckets: [Duration] = [
        .microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5),
        .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250),
        .milliseconds(500), .seconds(1), .seconds(5),
    ]

    init(registry: PrometheusCollectorRegistry) {
        self.registry = registry
    }

    func record(method: String, route: String, status: Int, duration: Duration) {
        let labels = [("method", method), ("route", route), ("status", String(status))]
        let key = "\(method) \(route) \(status)"
        let counter = counters.withLock { counters in
            if let counter = counters[key] { return counter }
            let counter = registry.makeCounter(
                descriptor: .init(
                    namespace: "chatlog", subsystem: "http", metricName: "requests", unitName: "total",
                    helpText: "HTTP requests by route and status"),
                labels: labels)
            counters[key] = counter
            return counter
        }
        counter.increment()
        let histogram = histograms.withLock { histograms in
            if let histogram = histograms[key] { return histogram }
            let histogram = registry.makeDurationHistogram(
                descriptor: .init(
                    namespace: "chatlog", subsystem: "http", metricName: "request_duration",
                    unitName: "seconds", helpText: "HTTP request latency"),
                labels: labels, buckets: Self.buckets)
            histograms[key] = histogram
            return histogram
        }
        histogram.record(duration)
    }
}
