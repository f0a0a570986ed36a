import Chat
import Prometheus
import Synchronization

/// WebSocket delivery in Prometheus: open connections, subscriptions and subscribed channels,
/// frames sent, slow consumers cut off, and the time from a record's commit to its fan-out.
final class DeliveryMetrics: ScrapedMetrics {
    private let hub: DeliveryHub
    private let connections: Gauge
    private let subscriptions: Gauge
    private let subscribedChannels: Gauge
    private let framesSent: TotalCounter
    private let slowConsumers: TotalCounter

    init(hub: DeliveryHub, registry: PrometheusCollectorRegistry) {
        self.hub = hub
        connections = registry.chatlogGauge("ws", "connections", help: "Open WebSocket connections")
        subscriptions = registry.chatlogGauge(
            "ws", "subscriptions", help: "Channel subscriptions of open WebSocket connections")
        subscribedChannels = registry.chatlogGauge(
            "ws", "subscribed_channels", help: "Channels with at least one WebSocket subscriber")
        framesSent = TotalCounter(
            registry.makeCounter(
                descriptor: .init(
                    namespace: "chatlog", subsystem: "ws", metricName: "frames_sent_total", unitName: "",
                    helpText: "Frames handed to WebSocket connections")))
        slowConsumers = TotalCounter(
            registry.makeCounter(
                descriptor: .init(
                    namespace: "chatlog", subsystem: "ws", metricName: "slow_consumer_disconnects_total",
                    unitName: "",
                    helpText: "Connections closed with 1008 because their send queue filled")))
        let latency = registry.makeDurationHistogram(
            descriptor: .init(
                namespace: "chatlog", subsystem: "ws", metricName: "delivery_latency", unitName: "seconds",
                helpText: "Time from a record's commit to its fan-out to subscribers"),
            buckets: [
                .microseconds(100), .microseconds(250), .microseconds(500), .milliseconds(1),
                .milliseconds(2),
                .milliseconds(5), .milliseconds(10), .milliseconds(50), .milliseconds(250), .seconds(1),
            ])
        hub.statistics.observeLatency { latency.record($0) }
    }

    /// Refreshes the gauges and counters (called on each scrape).
    func update() {
        connections.set(Double(hub.connectionCount))
        subscriptions.set(Double(hub.subscriptionCount))
        subscribedChannels.set(Double(hub.subscribedChannelCount))
        framesSent.advance(to: UInt64(hub.statistics.framesSent.load(ordering: .relaxed)))
        slowConsumers.advance(to: UInt64(hub.statistics.slowConsumerDisconnects.load(ordering: .relaxed)))
    }
}
