import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import NIOHTTP1
import NIOHTTPTypes
import NIOHTTPTypesHTTP1
import NIOWebSocket

/// The server's connections: HTTP/1, where an upgrade of `GET /v1/ws` with a valid token
/// becomes a `DeliveryConnection`. A connection past the limits is answered 503 at once, and
/// until any upgrade an `HTTPRequestGuard` times out slow requests and answers malformed ones.
/// The upgraded socket is served by NIO handlers alone, with no task kept per socket, so an
/// idle subscriber costs its channel and its session (a hummingbird-websocket socket keeps
/// several tasks alive; docs/benchmarks.md has the memory per connection of both).
struct WebSocketUpgradeChannel: ServerChildChannel, HTTPChannelHandler {
    enum Negotiated: Sendable {
        case webSocket
        case http(NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>)
        /// A refused upgrade, already answered.
        case refused
        /// A connection past the limits, being answered.
        case overloaded
    }

    struct Value: ServerChildChannelValue {
        let negotiated: EventLoopFuture<Negotiated>
        let channel: any Channel
    }

    let responder: HTTPChannelHandler.Responder
    let endpoint: DeliveryEndpoint
    let limiter: ConnectionLimiter
    let connections: ConnectionConfiguration
    let http1 = HTTP1Channel.Configuration()

    init(
        responder: @escaping HTTPChannelHandler.Responder, endpoint: DeliveryEndpoint,
        limiter: ConnectionLimiter,
        connections: ConnectionConfiguration
    ) {
        self.responder = Self.redirectingLateUpgrades(responder)
        self.endpoint = endpoint
        self.limiter = limiter
        self.connections = connections
    }

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        let address = channel.clientAddress
        if let refusal = limiter.admit(address) {
            return channel.eventLoop.makeCompletedFuture {
                try channel.pipeline.syncOperations.addHandler(HTTPResponseEncoder())
                try channel.pipeline.syncOperations.addHandler(
                    ConnectionRefusal(error: ConnectionLimiter.error(for: refusal)))
                return Value(negotiated: channel.eventLoop.makeSucceededFuture(.overloaded), channel: channel)
            }
        }
        channel.closeFuture.whenComplete { [limiter] _ in limiter.release(address) }
        return channel.eventLoop.makeCompletedFuture {
            let identity = NIOLoopBoundBox<TokenIdentity?>(nil, eventLoop: channel.eventLoop)
            let refused = NIOLoopBoundBox(false, eventLoop: channel.eventLoop)
            let endpoint = endpoint
            let upgrader = NIOTypedWebSocketServerUpgrader<Negotiated>(
                maxFrameSize: endpoint.configuration.maxFrameSize,
                shouldUpgrade: { channel, head in
                    guard URI(head.uri).path == DeliveryEndpoint.path else {
                        return channel.eventLoop.makeSucceededFuture(nil)
                    }
                    let authenticated = channel.eventLoop.makePromise(of: TokenIdentity?.self)
                    authenticated.completeWithTask { await endpoint.identity(upgrading: head, on: channel) }
                    return authenticated.futureResult.flatMapThrowing { found in
                        identity.value = found
                        refused.value = found == nil
                        guard found != nil else { return nil }
                        // The socket's own ping and close timeouts apply from here on; the
                        // guard must be gone before the upgrade hands on bytes that are not HTTP.
                        let requestGuard = try channel.pipeline.syncOperations.context(
                            handlerType: HTTPRequestGuard.self)
                        channel.pipeline.syncOperations.removeHandler(context: requestGuard, promise: nil)
                        return HTTPHeaders()
                    }
                },
                upgradePipelineHandler: { channel, _ in
                    channel.eventLoop.makeCompletedFuture {
                        // Only an authenticated request is upgraded, so the user is known here.
                        guard let identity = identity.value else {
                            throw ChannelError.inappropriateOperationForState
                        }
                        try channel.pipeline.syncOperations.addHandler(
                            endpoint.connection(for: identity, logger: logger))
                        return .webSocket
                    }
                })
            let http1 = http1
            let upgrades = NIOTypedHTTPServerUpgradeConfiguration(
                upgraders: [upgrader],
                notUpgradingCompletionHandler: { channel in
                    channel.eventLoop.makeCompletedFuture {
                        if refused.value { return .refused }
                        let pipeline = channel.pipeline.syncOperations
                        try pipeline.addHandler(HTTP1ToHTTPServerCodec(secure: false))
                        try pipeline.addHandlers(http1.additionalChannelHandlers())
                        try pipeline.addHandler(
                            HTTPConnectionStateHandler(
                                idleTimeout: http1.idleTimeout.map { .init($0) }, logger: logger))
                        return .http(
                            try NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>(
                                wrappingChannelSynchronously: channel,
                                configuration: .init(isOutboundHalfClosureEnabled: true)))
                    }
                })
            var configuration = NIOUpgradableHTTPServerPipelineConfiguration(upgradeConfiguration: upgrades)
            configuration.enablePipelining = false
            configuration.enableErrorHandling = false
            configuration.enableResponseHeaderValidation = false
            configuration.decoderConfiguration.maxHeaderFieldSize = Self.maxHeaderFieldBytes
            configuration.decoderConfiguration.maxHeaderListSize = Self.maxHeaderBytes
            configuration.decoderConfiguration.maxHeaderFieldCount = Self.maxHeaderFields
            let negotiated = try channel.pipeline.syncOperations.configureUpgradableHTTPServerPipeline(
                configuration: configuration)
            let decoder = try channel.pipeline.syncOperations.context(
                handlerType: ByteToMessageHandler<HTTPRequestDecoder>.self)
            try channel.pipeline.syncOperations.addHandler(
                HTTPRequestGuard(configuration: connections, logger: logger),
                position: .after(decoder.handler))
            return Value(negotiated: negotiated, channel: channel)
        }
    }

    func handle(value: Value, logger: Logger) async {
        do {
            switch try await value.negotiated.get() {
            case .webSocket: return  // The connection's handlers serve it from here on.
            case .http(let http): await handleHTTP(asyncChannel: http, logger: logger)
            case .refused: value.channel.close(promise: nil)  // Answered already; usually closed too.
            case .overloaded: try await value.channel.closeFuture.get()
            }
        } catch {
            logger.debug("connection ended before its first request", metadata: ["error": "\(error)"])
        }
    }

    /// Limits on a request's head: no client needs more, and past them it is a 400.
    static let maxHeaderFieldBytes = 16 * 1024
    static let maxHeaderBytes = 64 * 1024
    static let maxHeaderFields = 100

    /// An upgrade can only be the connection's first request. A later one on a kept-alive
    /// connection is redirected to the same URI with the connection closed, so the client
    /// retries it as the first request of a new one.
    private static func redirectingLateUpgrades(_ responder: @escaping Responder) -> Responder {
        struct LateUpgrade: Error {}
        return { (request: Request, writer: consuming ResponseWriter, channel: any Channel) in
            guard request.headers[.upgrade]?.lowercased() == "websocket",
                request.uri.path == DeliveryEndpoint.path
            else {
                try await responder(request, writer, channel)
                return
            }
            try await writer.writeResponse(
                HTTPResponse(
                    status: .temporaryRedirect,
                    headerFields: [.connection: "close", .location: request.uri.description]))
            throw LateUpgrade()
        }
    }
}
