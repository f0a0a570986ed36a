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
    private var timer: Scheduled<Void>?
    private var failed = false

    init(configuration: ConnectionConfiguration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
    }

    func handlerAdded(context: ChannelHandlerContext) {
        arm(context)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        timer?.cancel()
    }

    func channelInactive(context: ChannelHandlerContext) {
        timer?.cancel()
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !failed else { return }
        switch unwrapInboundIn(data) {
        case .head: phase = .readingBody
        case .body: break
        case .end: phase = .handling
        }
        arm(context)
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
        timer?.cancel()
        logger.debug("malformed request", metadata: ["error": "\(error)"])
        if responding {
            context.close(promise: nil)
        } else {
            HTTPErrorResponse.send(
                .invalidRequest("the request is not valid HTTP/1.1 (\(error)); the connection is closed"),
                from: context)
        }
    }

    /// Starts the timer the current phase calls for (none while the application handles a
    /// request: its own time limits apply).
    private func arm(_ context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
        let limit: Duration
        switch phase {
        case .waiting(let first): limit = first ? configuration.headerTimeout : configuration.idleTimeout
        case .readingBody: limit = configuration.bodyTimeout
        case .handling: return
        }
        let this = NIOLoopBound(self, eventLoop: context.eventLoop)
        let context = NIOLoopBound(context, eventLoop: context.eventLoop)
        timer = context.value.eventLoop.scheduleTask(in: TimeAmount(limit)) {
            this.value.timedOut(context.value)
        }
    }

    private func timedOut(_ context: ChannelHandlerContext) {
        guard !failed else { return }
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
