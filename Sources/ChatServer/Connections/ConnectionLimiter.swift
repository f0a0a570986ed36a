import NIOCore
import NIOHTTP1
import Prometheus
import Synchronization

/// Counts open connections, in all and per client address, and refuses those past the limits.
/// The process must never run out of file descriptors: past that point accepts fail, and
/// libdispatch's worker monitor, which opens `/proc/<tid>/stat` on every tick, stops the
/// process when that open fails (`_dispatch_workq_count_runnable_workers` in
/// swift-corelibs-libdispatch's src/event/workqueue.c treats EMFILE as a worker that exited).
final class ConnectionLimiter: Sendable {
    enum Refusal: String {
        case total, perAddress = "per_address"
    }

    private struct Counts {
        var total = 0
        var perAddress: [String: Int] = [:]
    }

    private let configuration: ConnectionConfiguration
    private let counts = Mutex(Counts())
    private let open: Gauge
    private let refusedTotal: Counter
    private let refusedPerAddress: Counter

    init(configuration: ConnectionConfiguration, registry: PrometheusCollectorRegistry) {
        self.configuration = configuration
        open = registry.chatlogGauge(
            "http", "connections_open", help: "HTTP and WebSocket connections open now")
        func refused(_ reason: Refusal) -> Counter {
            registry.chatlogCounter(
                "http", "connections_refused",
                help: "Connections refused at accept because a connection limit was reached",
                labels: [("reason", reason.rawValue)])
        }
        refusedTotal = refused(.total)
        refusedPerAddress = refused(.perAddress)
    }

    /// Counts a new connection from `address`, or says which limit refuses it.
    func admit(_ address: String) -> Refusal? {
        let refusal: Refusal? = counts.withLock { counts in
            guard counts.total < configuration.maxConnections else { return .total }
            guard counts.perAddress[address, default: 0] < configuration.maxPerAddress else {
                return .perAddress
            }
            counts.total += 1
            counts.perAddress[address, default: 0] += 1
            open.set(Double(counts.total))
            return nil
        }
        switch refusal {
        case .total: refusedTotal.increment()
        case .perAddress: refusedPerAddress.increment()
        case nil: break
        }
        return refusal
    }

    /// Forgets a closed connection that `admit` counted.
    func release(_ address: String) {
        counts.withLock { counts in
            counts.total -= 1
            let left = counts.perAddress[address, default: 1] - 1
            counts.perAddress[address] = left > 0 ? left : nil
            open.set(Double(counts.total))
        }
    }

    /// The refusal's answer.
    static func error(for refusal: Refusal) -> APIError {
        var error = APIError(
            .serviceUnavailable, code: "overloaded",
            message: refusal == .total
                ? "the server has as many connections as it takes; retry shortly"
                : "this address has as many connections as the server takes from one; close some first")
        error.headers[.retryAfter] = "1"
        return error
    }
}

/// Answers a connection refused at accept with its 503, then closes it once the client has
/// had a moment to read it (closing with the client's request unread would reset the
/// connection and lose the answer).
final class ConnectionRefusal: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = HTTPServerResponsePart

    private let error: APIError

    init(error: APIError) {
        self.error = error
    }

    func channelActive(context: ChannelHandlerContext) {
        let (head, body) = HTTPErrorResponse.parts(for: error)
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        context.close(mode: .output, promise: nil)
        let channel = context.channel
        context.eventLoop.scheduleTask(in: .seconds(1)) { channel.close(promise: nil) }
        context.fireChannelActive()
    }

    /// What the client sends is read and dropped.
    func channelRead(context: ChannelHandlerContext, data: NIOAny) {}
}
