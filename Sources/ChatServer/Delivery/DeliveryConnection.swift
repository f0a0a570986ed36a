import Chat
import DequeModule
import Foundation
import Logging
import NIOCore
import NIOWebSocket

/// One delivery WebSocket, served on its event loop with no task waiting on it while idle.
///
/// The hub calls the session's `onWork` when it has something for the socket; the connection
/// then takes everything queued with `DeliveryHub.next(for:)` and writes it as one burst with
/// one flush. While the channel is not writable (its client reads slower than it is sent to) it
/// takes nothing, so such a client lets its session's bounded queue fill, and the hub cuts it off.
/// What needs to block or wait runs in a short task: a resume page read from the log, and the
/// client's control frames, handled one after another in the order they came.
final class DeliveryConnection: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = WebSocketFrame
    typealias OutboundOut = WebSocketFrame

    private enum ClientMessage {
        case text(ByteBuffer)
        case binary
    }

    /// Client messages waiting beyond this stop reading from the socket until they are handled.
    private static let maxWaitingMessages = 64

    private let hub: DeliveryHub
    private let user: String
    /// When the upgrade's token stops being accepted; the session's `validUntil` once open.
    private let validUntil: Date
    private var expiryTimer: Scheduled<Void>?
    private let configuration: WebSocketConfiguration
    private let logger: Logger
    private let wakers: LoopWaker.Registry
    private var context: ChannelHandlerContext?
    /// The frame encoder's place in the pipeline. The hub's frames are complete WebSocket
    /// frames, rendered once for every subscriber, so they are written from there, past the
    /// encoder; control frames go through it.
    private var encoded: ChannelHandlerContext?
    private var session: DeliverySession?
    /// The socket has gone: a session that opens late is disconnected at once.
    private var ended = false
    /// A resume page is being read from the log: the next step waits for it.
    private var resuming = false
    /// Our close frame has been sent: the socket closes on the client's answer or the timeout.
    private var closing = false
    private var closeTimer: Scheduled<Void>?
    private var pinger: RepeatedTask?
    private var awaitingPong = false
    /// A text or binary message arriving in fragments.
    private var fragments: (opcode: WebSocketOpcode, data: ByteBuffer)?
    private var inbox = Deque<ClientMessage>()
    private var handlingInbox = false
    private var readingPaused = false

    init(
        hub: DeliveryHub, user: String, validUntil: Date, configuration: WebSocketConfiguration,
        wakers: LoopWaker.Registry, logger: Logger
    ) {
        self.hub = hub
        self.wakers = wakers
        self.user = user
        self.validUntil = validUntil
        self.configuration = configuration
        self.logger = logger
    }

    // MARK: Life cycle

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        encoded = try? context.pipeline.syncOperations.context(handlerType: WebSocketFrameEncoder.self)
        let loop = context.eventLoop
        let this = NIOLoopBound(self, eventLoop: loop)
        let interval = TimeAmount(configuration.pingInterval)
        // The first ping comes somewhere in the second half of the interval, so that sockets
        // opened together (a reconnect storm, say) do not ping together ever after.
        let first = TimeAmount.nanoseconds(.random(in: (interval.nanoseconds / 2)...interval.nanoseconds))
        pinger = loop.scheduleRepeatedTask(initialDelay: first, delay: interval) { _ in this.value.ping() }
        checkExpiry()
        let (hub, user, validUntil, waker) = (hub, user, validUntil, wakers.waker(for: loop))
        Task {
            let session = await hub.connect(user: user, validUntil: validUntil) { waker.wake(this) }
            loop.execute { this.value.opened(session) }
        }
    }

    private func opened(_ session: DeliverySession?) {
        guard !ended else {
            if let session { Task { [hub] in await hub.disconnect(session) } }
            return
        }
        guard let session else {
            close(because: .shutdown)
            return
        }
        self.session = session
        handleInbox()
        drain()
    }

    func channelInactive(context: ChannelHandlerContext) {
        end()
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        end()
        self.context = nil
        encoded = nil
    }

    /// Forgets the socket: the hub drops the session (which breaks the session → connection
    /// reference through `onWork`).
    private func end() {
        guard !ended else { return }
        ended = true
        pinger?.cancel()
        closeTimer?.cancel()
        expiryTimer?.cancel()
        if let session {
            self.session = nil
            Task { [hub] in await hub.disconnect(session) }
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is ChannelShouldQuiesceEvent {
            close(because: .shutdown)
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        logger.debug("delivery socket failed", metadata: ["error": "\(error)"])
        context.close(promise: nil)
    }

    // MARK: Writing

    /// Writes what the session has next, unless a resume page is being read or the channel is
    /// not writable. A close goes out at once all the same: its frame waits behind what the
    /// channel holds, its timeout starts now.
    func drain() {
        guard let context, let session, !closing else { return }
        guard !resuming, context.channel.isWritable else {
            if let reason = session.closeReason { close(because: reason) }
            return
        }
        switch hub.next(for: session) {
        case .idle: return
        case .frames(let frames, let resumeNext):
            write(frames, context: context)
            if resumeNext { drain() }
        case .close(let reason): close(because: reason)
        case .resume(let step):
            resuming = true
            let loop = context.eventLoop
            let this = NIOLoopBound(self, eventLoop: loop)
            Task { [hub] in
                let page: Result<[ByteBuffer], any Error>
                do {
                    page = .success(try await hub.resume(step, of: session))
                } catch {
                    page = .failure(error)
                }
                loop.execute { this.value.resumed(page) }
            }
        }
    }

    private func resumed(_ page: Result<[ByteBuffer], any Error>) {
        resuming = false
        guard let context else { return }
        switch page {
        case .success(let frames):
            write(frames, context: context)
            drain()
        case .failure(let error):
            logger.error("delivery resume failed", metadata: ["error": "\(error)"])
            context.close(promise: nil)
        }
    }

    private func write(_ frames: some Collection<ByteBuffer>, context: ChannelHandlerContext) {
        guard !frames.isEmpty else { return }
        guard let place = encoded else {
            // The upgrade always installs the encoder; without it, nothing can be sent.
            context.close(promise: nil)
            return
        }
        for frame in frames { place.write(NIOAny(frame), promise: nil) }
        context.flush()
    }

    /// The socket took what was waiting: write what queued meanwhile.
    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable { drain() }
        context.fireChannelWritabilityChanged()
    }

    /// Sends the close frame a reason calls for; a socket that has not closed within the close
    /// timeout (its client stopped reading) is closed without waiting further.
    private func close(because reason: DeliveryCloseReason) {
        switch reason {
        case .slowConsumer: sendClose(.policyViolation, reason: "slow consumer")
        case .shutdown: sendClose(.goingAway, reason: "server shutting down")
        case .disconnected: context?.close(promise: nil)
        case .tokenExpired:
            sendClose(
                WebSocketErrorCode(codeNumber: 4401),
                reason: "token expired: reconnect with a fresh one, or renew it before it expires")
        }
    }

    private func sendClose(_ code: WebSocketErrorCode, reason: String) {
        guard let context, !closing else { return }
        closing = true
        var data = context.channel.allocator.buffer(capacity: 2 + reason.utf8.count)
        data.write(webSocketErrorCode: code)
        data.writeString(reason)
        context.writeAndFlush(
            wrapOutboundOut(WebSocketFrame(fin: true, opcode: .connectionClose, data: data)), promise: nil)
        let channel = context.channel
        closeTimer = context.eventLoop.scheduleTask(in: TimeAmount(configuration.closeTimeout)) {
            channel.close(promise: nil)
        }
    }

    /// Closes the socket once its token has expired; until then, looks again when it would
    /// (an `auth` frame may have moved the time later meanwhile).
    private func checkExpiry() {
        guard let context, !closing else { return }
        let until = session?.validUntil ?? validUntil
        let left = until.timeIntervalSinceNow
        guard left > 0 else { return close(because: .tokenExpired) }
        let this = NIOLoopBound(self, eventLoop: context.eventLoop)
        expiryTimer = context.eventLoop.scheduleTask(in: .nanoseconds(Int64(left * 1e9) + 1_000_000)) {
            this.value.checkExpiry()
        }
    }

    /// Pings every interval; a client that has not answered the previous ping is closed.
    private func ping() {
        guard let context, !closing else { return }
        guard !awaitingPong else {
            sendClose(.goingAway, reason: "ping timeout")
            context.close(promise: nil)
            return
        }
        awaitingPong = true
        context.writeAndFlush(
            wrapOutboundOut(
                WebSocketFrame(fin: true, opcode: .ping, data: context.channel.allocator.buffer(capacity: 0))),
            promise: nil)
    }

    // MARK: Reading

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        switch frame.opcode {
        case .text, .binary:
            guard fragments == nil else {
                return sendClose(.protocolError, reason: "a new message inside a fragmented one")
            }
            if frame.fin {
                receive(frame.opcode, frame.unmaskedData)
            } else {
                fragments = (frame.opcode, frame.unmaskedData)
            }
        case .continuation:
            guard var message = fragments else {
                return sendClose(.protocolError, reason: "a continuation of nothing")
            }
            var data = frame.unmaskedData
            guard message.data.readableBytes + data.readableBytes <= configuration.maxFrameSize else {
                return sendClose(
                    .messageTooLarge, reason: "message larger than \(configuration.maxFrameSize) bytes")
            }
            message.data.writeBuffer(&data)
            fragments = frame.fin ? nil : message
            if frame.fin { receive(message.opcode, message.data) }
        case .ping:
            guard !closing else { return }
            context.writeAndFlush(
                wrapOutboundOut(WebSocketFrame(fin: true, opcode: .pong, data: frame.unmaskedData)),
                promise: nil)
        case .pong:
            awaitingPong = false
        case .connectionClose:
            answerClose(frame, context: context)
        default:
            sendClose(.protocolError, reason: "unknown opcode")
        }
    }

    /// The client's close: answered with its code (unless ours went first), then the socket closes.
    private func answerClose(_ frame: WebSocketFrame, context: ChannelHandlerContext) {
        let channel = context.channel
        guard !closing else {
            channel.close(promise: nil)
            return
        }
        closing = true
        var data = frame.unmaskedData
        let code = data.readSlice(length: 2) ?? channel.allocator.buffer(capacity: 0)
        context.writeAndFlush(
            wrapOutboundOut(WebSocketFrame(fin: true, opcode: .connectionClose, data: code))
        )
        .whenComplete { _ in channel.close(promise: nil) }
    }

    private func receive(_ opcode: WebSocketOpcode, _ data: ByteBuffer) {
        inbox.append(opcode == .text ? .text(data) : .binary)
        if inbox.count >= Self.maxWaitingMessages, !readingPaused {
            readingPaused = true
            try? context?.channel.syncOptions?.setOption(ChannelOptions.autoRead, value: false)
        }
        handleInbox()
    }

    /// Hands the waiting client messages to the hub, in order, in one task at a time.
    private func handleInbox() {
        guard !handlingInbox, let context, let session, !inbox.isEmpty else { return }
        handlingInbox = true
        let messages = Array(inbox)
        inbox.removeAll()
        if readingPaused {
            readingPaused = false
            try? context.channel.syncOptions?.setOption(ChannelOptions.autoRead, value: true)
        }
        let loop = context.eventLoop
        let this = NIOLoopBound(self, eventLoop: loop)
        Task { [hub] in
            for message in messages {
                switch message {
                case .text(let text): await hub.receive(text: text.readableBytesView, from: session)
                case .binary: hub.receiveBinary(from: session)
                }
            }
            loop.execute {
                this.value.handlingInbox = false
                this.value.handleInbox()
            }
        }
    }
}
