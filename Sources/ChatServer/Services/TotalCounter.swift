import Prometheus
import Synchronization

/// A Prometheus counter kept level with a running total that its source counts itself (a
/// group's processed records, the frames sent, the process's CPU time), read at each scrape.
/// A total below the last one means the source counted again from zero.
final class TotalCounter: Sendable {
    private let counter: Counter
    /// The total the counter was brought up to at the last scrape.
    private let reported = Mutex<Double>(0)

    init(_ counter: Counter) {
        self.counter = counter
    }

    /// Adds what the source counted since the last scrape, as a whole number.
    func advance(to total: UInt64) {
        let increase = self.increase(to: Double(total))
        if increase > 0 { counter.increment(by: Int64(increase)) }
    }

    /// Adds what the source counted since the last scrape.
    func advance(to total: Double) {
        let increase = self.increase(to: total)
        if increase > 0 { counter.increment(by: increase) }
    }

    private func increase(to total: Double) -> Double {
        reported.withLock { reported in
            defer { reported = total }
            return total >= reported ? total - reported : total
        }
    }
}
