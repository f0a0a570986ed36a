import Logging
import Prometheus
import Synchronization

/// What the server keeps of every request, REST and WebSocket upgrade alike: its count and
/// latency by method, route template and status in Prometheus, and, when an access log is
/// configured, one line at its level. The line names the path without its query, which may
/// carry a token.
public final class RequestLog: Sendable {
    private let registry: PrometheusCollectorRegistry
    private let accessLog: Logger.Level?
    private let logger: Logger
    private let counters = Mutex<[String: Counter]>([:])
    private let histograms = Mutex<[String: DurationHistogram]>([:])
    private static let buckets: [Duration] = [
        .microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5),
        .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250),
        .milliseconds(500), .seconds(1), .seconds(5),
    ]

    /// `accessLog` is the level of the access log's lines, nil for none.
    public init(registry: PrometheusCollectorRegistry, accessLog: Logger.Level? = nil, logger: Logger) {
        self.registry = registry
        self.accessLog = accessLog
        self.logger = logger
    }

    /// A request answered: `route` is the template it matched (or "unmatched").
    func record(
        method: String, path: String, route: String, status: Int, duration: Duration, requestID: String?,
        client: String
    ) {
        if let accessLog {
            var metadata: Logger.Metadata = [
                "method": "\(method)", "path": "\(path)", "status": "\(status)", "client": "\(client)",
                "ms": "\(Double(duration / .microseconds(10)).rounded() / 100)",
            ]
            if let requestID { metadata["requestId"] = "\(requestID)" }
            logger.log(level: accessLog, "request", metadata: metadata)
        }
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
