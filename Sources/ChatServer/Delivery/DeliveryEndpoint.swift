import Chat
import Hummingbird
import HummingbirdWebSocket
import Logging
import NIOCore
import NIOWebSocket

/// `GET /v1/ws`: the receive-only WebSocket. The upgrade needs a valid JWT (header or `token`
/// query parameter); each connection then runs three tasks — one writes what the delivery hub
/// hands it, one reads control frames, one waits for the hub to close it — and the first to
/// finish ends the others.
struct DeliveryEndpoint: Sendable {
    let hub: DeliveryHub
    let authority: TokenAuthority
    let configuration: WebSocketConfiguration

    static let path = "/v1/ws"

    /// The upgrade route, on the WebSocket router.
    func addRoutes(to router: Router<DeliveryRequestContext>) {
        router.ws(
            RouterPath(Self.path),
            shouldUpgrade: { request, context in
                do {
                    _ = try await user(of: request)
                    return .upgrade([:])
                } catch {
                    await UpgradeRefusal.send(
                        APIError.from(error) ?? .unauthorized("invalid token"), on: context.channel)
                    return .dontUpgrade
                }
            },
            onUpgrade: { inbound, outbound, context in
                guard let user = try? await user(of: context.request) else { return }
                await serve(
                    user: user, inbound: inbound, outbound: outbound, channel: context.requestContext.channel)
            })
    }

    /// The same path on the HTTP router, for requests that are not upgrades (or whose token
    /// was refused): 401 without a valid token, 400 with one.
    func addRoutes(to router: Router<ChatRequestContext>, table: RouteTable) {
        router.get(RouterPath(Self.path)) { request, _ -> Response in
            _ = try await user(of: request)
            throw APIError.invalidRequest(
                "GET /v1/ws is a WebSocket endpoint: send Connection: Upgrade and Upgrade: websocket")
        }
        table.add("GET", Self.path)
    }

    private func user(of request: Request) async throws -> String {
        try await authority.user(fromToken: try BearerAuthMiddleware.bearerToken(request, allowQuery: true))
    }

    private func serve(
        user: String, inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter,
        channel: any NIOCore.Channel
    ) async {
        guard let session = await hub.connect(user: user) else {
            await close(outbound, channel: channel, because: .shutdown)
            return
        }
        let reason = await withTaskGroup(of: DeliveryCloseReason.self) { tasks in
            tasks.addTask { await writeFrames(of: session, to: channel) }
            tasks.addTask { await readFrames(of: session, from: inbound) }
            tasks.addTask { await session.waitUntilClosed() }
            let first = await tasks.next() ?? .disconnected
            session.close(first)
            tasks.cancelAll()
            return first
        }
        // The close frame goes before the hub forgets the session: shutdown waits for that.
        await close(outbound, channel: channel, because: reason)
        await hub.disconnect(session)
    }

    private func writeFrames(of session: DeliverySession, to channel: any NIOCore.Channel) async
        -> DeliveryCloseReason
    {
        do {
            while true {
                switch try await hub.next(for: session) {
                case .frames(let frames): try await write(frames, to: channel)
                case .close(let reason): return reason
                }
            }
        } catch {
            return .disconnected
        }
    }

    /// Writes a burst of frames straight to the connection's channel and flushes once: one
    /// syscall for the burst, where the WebSocket writer made one per frame (half the server's
    /// time in a fan-out). Returns once the socket took the last one, which paces the
    /// subscriber; if the connection is being closed meanwhile, a socket that does not take
    /// them within the close timeout is closed, as `close` would.
    private func write(_ frames: [ByteBuffer], to channel: any NIOCore.Channel) async throws {
        guard !frames.isEmpty else { return }
        let written = channel.eventLoop.makePromise(of: Void.self)
        channel.eventLoop.execute {
            for (index, frame) in frames.enumerated() {
                channel.write(
                    WebSocketFrame(fin: true, opcode: .text, data: frame),
                    promise: index == frames.count - 1 ? written : nil)
            }
            channel.flush()
        }
        let closeTimeout = configuration.closeTimeout
        try await withTaskCancellationHandler {
            try await written.futureResult.get()
        } onCancel: {
            channel.eventLoop.scheduleTask(in: TimeAmount(closeTimeout)) {
                channel.close(promise: nil)
            }
        }
    }

    private func readFrames(of session: DeliverySession, from inbound: WebSocketInboundStream) async
        -> DeliveryCloseReason
    {
        do {
            for try await message in inbound.messages(maxSize: configuration.maxFrameSize) {
                switch message {
                case .text(let text): await hub.receive(text: text.utf8, from: session)
                case .binary: hub.receiveBinary(from: session)
                }
            }
        } catch {}
        return .disconnected
    }

    /// Sends the close frame a reason calls for; a socket that cannot take it in time (its
    /// client stopped reading) is closed without it.
    private func close(
        _ outbound: WebSocketOutboundWriter, channel: any NIOCore.Channel, because reason: DeliveryCloseReason
    ) async {
        let (code, text): (WebSocketErrorCode, String)
        switch reason {
        case .slowConsumer: (code, text) = (.policyViolation, "slow consumer")
        case .shutdown: (code, text) = (.goingAway, "server shutting down")
        case .disconnected: return
        }
        let sent = await withTaskGroup(of: Bool.self) { tasks in
            tasks.addTask { (try? await outbound.close(code, reason: text)) != nil }
            tasks.addTask {
                try? await Task.sleep(for: configuration.closeTimeout)
                return false
            }
            let sent = await tasks.next() ?? false
            tasks.cancelAll()
            return sent
        }
        if !sent { try? await channel.close() }
    }
}
