import Chat
import EventLog
import Synchronization

/// Running totals of WebSocket delivery, read by the metrics endpoint.
public final class DeliveryStatistics: Sendable {
    /// Frames handed to sockets: live, resumed and control frames.
    public let framesSent = Atomic<Int>(0)
    /// Live frames queued for subscribers by the fan-out.
    public let framesQueued = Atomic<Int>(0)
    /// Connections closed because their queue filled.
    public let slowConsumerDisconnects = Atomic<Int>(0)
    /// Called with the time from a record's commit to its fan-out, for each fanned-out record
    /// that reached at least one subscriber.
    private let latencyObserver = ObserverSlot<Duration>()

    public init() {}

    /// Sets what observes fan-out latencies (the metrics registry).
    public func observeLatency(_ observer: @escaping @Sendable (Duration) -> Void) {
        latencyObserver.set(observer)
    }

    func recordFanOut(queued: Int, overflowed: Int, createdAt: Timestamp) {
        if overflowed > 0 { slowConsumerDisconnects.add(overflowed, ordering: .relaxed) }
        guard queued > 0 else { return }
        framesQueued.add(queued, ordering: .relaxed)
        latencyObserver(.microseconds(max(0, Timestamp.now().microseconds - createdAt.microseconds)))
    }
}
