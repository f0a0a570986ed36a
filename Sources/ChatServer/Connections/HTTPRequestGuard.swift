import Logging
import NIOCore
import NIOHTTP1

/// Sits right after the HTTP/1 request decoder and keeps a connection from being held without
/// making progress: a request head must be complete within the header timeout of the
/// connection's start, a body within the body timeout of its head, and a kept-alive connection
/// may idle for the idle timeout between requests. A request the decoder cannot parse (a
/// garbage request line, a repeated Content-Length, Content-Length with chunked encoding, a bad
/// chunk size, headers past the limits) is answered 400 with the error envelope. Either way
/// the connection is then closed. It leaves the pipeline when the connection upgrades.
final class HTTPRequestGuard: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    private enum Phase {
        /// Waiting for a request head: the connection's first, or the next on a kept-alive one.
        case waiting(first: Bool)
        case readingBody
        /// The request is read; the application has it.
        case handling
    }

    private let configuration: ConnectionConfiguration
    private let logger: Logger
    private var phase = Phase.waiting(first: true)
    private var responding = false
    /// When the current phase times out; nil while the application handles a request.
    private var deadline: NIODeadline?
    /// When the earliest scheduled timer fires. Timers are never cancelled, and a request
    /// schedules none while one is pending: scheduling costs an allocation or two, and
    /// cancelling scans every task scheduled on the loop (each idle WebSocket keeps two there).
    /// Moving a deadline later only records it; the pending timer looks again when it fires.
    private var timerAt: NIODeadline?
    private var failed = false

    init(configuration: ConnectionConfiguration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
    }

    func handlerAdded(context: ChannelHandlerContext) {
        arm(context)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        deadline = nil
    }

    func channelInactive(context: ChannelHandlerContext) {
        deadline = nil
        context.fireChannelInactive()
    }

    /// A phase's deadline is set when the phase begins: a body that trickles in does not move
    /// it, nor does a head that arrives a byte at a time (the decoder hands on whole heads).
    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !failed else { return }
        switch unwrapInboundIn(data) {
        case .head:
            phase = .readingBody
            arm(context)
        case .body: break
        case .end:
            phase = .handling
            arm(context)
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .head: responding = true
        case .body: break
        case .end:
            responding = false
            if case .handling = phase {
                phase = .waiting(first: false)
                arm(context)
            }
        }
        context.write(data, promise: promise)
    }

    /// A request the decoder could not parse: 400 and close, unless a response is under way
    /// (then only close, since another head cannot follow it).
    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard !failed else { return }
        failed = true
        deadline = nil
        logger.debug("malformed request", metadata: ["error": "\(error)"])
        if responding {
            context.close(promise: nil)
        } else {
            HTTPErrorResponse.send(
                .invalidRequest("the request is not valid HTTP/1.1 (\(error)); the connection is closed"),
                from: context)
        }
    }

    /// Sets the deadline the current phase calls for (none while the application handles a
    /// request: its own time limits apply), scheduling a timer only if none fires by then.
    private func arm(_ context: ChannelHandlerContext) {
        switch phase {
        case .waiting(let first):
            deadline =
                context.eventLoop.now
                + TimeAmount(first ? configuration.headerTimeout : configuration.idleTimeout)
        case .readingBody: deadline = context.eventLoop.now + TimeAmount(configuration.bodyTimeout)
        case .handling: deadline = nil
        }
        scheduleIfNeeded(context)
    }

    private func scheduleIfNeeded(_ context: ChannelHandlerContext) {
        guard let deadline, timerAt.map({ deadline < $0 }) ?? true else { return }
        timerAt = deadline
        let this = NIOLoopBound(self, eventLoop: context.eventLoop)
        let context = NIOLoopBound(context, eventLoop: context.eventLoop)
        context.value.eventLoop.scheduleTask(deadline: deadline) {
            this.value.timerFired(context.value)
        }
    }

    private func timerFired(_ context: ChannelHandlerContext) {
        let now = context.eventLoop.now
        if let timerAt, timerAt <= now { self.timerAt = nil }
        guard let deadline, !failed else { return }
        guard deadline <= now else { return scheduleIfNeeded(context) }
        timedOut(context)
    }

    private func timedOut(_ context: ChannelHandlerContext) {
        failed = true
        switch phase {
        case .waiting(first: false):
            // An idle kept-alive connection: closing it is what HTTP/1.1 allows, no answer due.
            context.close(promise: nil)
        case .waiting(first: true), .readingBody:
            guard !responding else { return context.close(promise: nil) }
            HTTPErrorResponse.send(
                APIError(
                    .requestTimeout, code: "request_timeout",
                    message: "the request did not arrive in time; the connection is closed"),
                from: context)
        case .handling:
            break
        }
    }
}
