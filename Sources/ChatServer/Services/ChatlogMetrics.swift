import Prometheus

/// Metrics named the chatlog way: `chatlog_<subsystem>_<name>`.
extension PrometheusCollectorRegistry {
    func chatlogGauge(_ subsystem: String, _ name: String, help: String, labels: [(String, String)] = [])
        -> Gauge
    {
        makeGauge(
            descriptor: .init(
                namespace: "chatlog", subsystem: subsystem, metricName: name, unitName: "", helpText: help),
            labels: labels)
    }

    /// A counter; its name gets `_total`.
    func chatlogCounter(_ subsystem: String, _ name: String, help: String, labels: [(String, String)] = [])
        -> Counter
    {
        makeCounter(
            descriptor: .init(
                namespace: "chatlog", subsystem: subsystem, metricName: name, unitName: "total",
                helpText: help),
            labels: labels)
    }
}
