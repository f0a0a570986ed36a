import NIOCore
import NIOPosix

/// A minimal WebSocket client for load: it upgrades, then parses frame headers straight out of
/// the byte stream and hands each text frame's payload to `onText`. Lighter than a full client,
/// so that ten thousand of them and half a million frames a second leave the server the CPU.
enum BenchWebSocketClient {
    /// Connects and upgrades; returns once the server switched protocols.
    static func connect(
        group: any EventLoopGroup, port: Int, token: String,
        onText: @escaping @Sendable (ByteBufferView) -> Void
    ) async throws -> any Channel {
        let upgraded = group.next().makePromise(of: Void.self)
        let channel = try await ClientBootstrap(group: group)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        FrameHandler(port: port, token: token, upgraded: upgraded, onText: onText))
                }
            }
            .connect(host: "127.0.0.1", port: port).get()
        try await upgraded.futureResult.get()
        return channel
    }

    /// Connects `count` sockets, 200 at a time (a listen backlog holds no more), sends each
    /// `text` once it is upgraded, and hands every text frame any of them receives to `onText`.
    static func connectMany(
        _ count: Int, port: Int, token: String, sending text: String,
        onText: @escaping @Sendable (ByteBufferView) -> Void
    ) async throws -> [any Channel] {
        var sockets: [any Channel] = []
        sockets.reserveCapacity(count)
        for batch in stride(from: 0, to: count, by: 200) {
            try await withThrowingTaskGroup(of: (any Channel).self) { connecting in
                for _ in batch..<min(batch + 200, count) {
                    connecting.addTask {
                        let socket = try await connect(
                            group: MultiThreadedEventLoopGroup.singleton, port: port, token: token,
                            onText: onText)
                        send(text, on: socket)
                        return socket
                    }
                }
                for try await socket in connecting { sockets.append(socket) }
            }
        }
        return sockets
    }

    /// Sends a text frame (masked, as clients must; the key is zero).
    static func send(_ text: String, on channel: any Channel) {
        channel.writeAndFlush(frame(opcode: 0x1, payload: ByteBuffer(string: text)), promise: nil)
    }

    static func frame(opcode: UInt8, payload: ByteBuffer) -> ByteBuffer {
        var frame = ByteBuffer()
        frame.writeInteger(0x80 | opcode)
        if payload.readableBytes < 126 {
            frame.writeInteger(0x80 | UInt8(payload.readableBytes))
        } else {
            frame.writeInteger(UInt8(0x80 | 126))
            frame.writeInteger(UInt16(payload.readableBytes))
        }
        frame.writeInteger(UInt32(0))
        var payload = payload
        frame.writeBuffer(&payload)
        return frame
    }

    private final class FrameHandler: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer

        let port: Int
        let token: String
        let upgraded: EventLoopPromise<Void>
        let onText: @Sendable (ByteBufferView) -> Void
        var buffer = ByteBuffer()
        var isUpgraded = false

        init(
            port: Int, token: String, upgraded: EventLoopPromise<Void>,
            onText: @escaping @Sendable (ByteBufferView) -> Void
        ) {
            self.port = port
            self.token = token
            self.upgraded = upgraded
            self.onText = onText
        }

        func channelActive(context: ChannelHandlerContext) {
            let request =
                "GET /v1/ws HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
                + "Authorization: Bearer \(token)\r\n\r\n"
            context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: request)), promise: nil)
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            var incoming = unwrapInboundIn(data)
            // Most reads hold whole frames: take the read buffer itself rather than copying it.
            if buffer.readableBytes == 0 {
                buffer = incoming
            } else {
                buffer.writeBuffer(&incoming)
            }
            if !isUpgraded {
                guard let end = buffer.readableBytesView.firstRange(of: Array("\r\n\r\n".utf8)) else {
                    return
                }
                let head = buffer.readString(length: end.upperBound - buffer.readerIndex) ?? ""
                guard head.hasPrefix("HTTP/1.1 101") else {
                    let status = head.prefix { $0 != "\r" }
                    upgraded.fail(BenchFailure("the WebSocket upgrade was answered \(status)"))
                    context.close(promise: nil)
                    return
                }
                isUpgraded = true
                upgraded.succeed()
            }
            readFrames(context: context)
            if buffer.readerIndex > 1 << 16 { buffer.discardReadBytes() }
        }

        private func readFrames(context: ChannelHandlerContext) {
            while buffer.readableBytes >= 2 {
                let start = buffer.readerIndex
                let first = buffer.getInteger(at: start, as: UInt8.self)!
                let shortLength = Int(buffer.getInteger(at: start + 1, as: UInt8.self)! & 0x7F)
                var headerLength = 2
                var length = shortLength
                if shortLength == 126 {
                    guard buffer.readableBytes >= 4 else { return }
                    length = Int(buffer.getInteger(at: start + 2, as: UInt16.self)!)
                    headerLength = 4
                } else if shortLength == 127 {
                    guard buffer.readableBytes >= 10 else { return }
                    length = Int(buffer.getInteger(at: start + 2, as: UInt64.self)!)
                    headerLength = 10
                }
                guard buffer.readableBytes >= headerLength + length else { return }
                let payload = buffer.readableBytesView[
                    (start + headerLength)..<(start + headerLength + length)]
                switch first & 0x0F {
                case 0x1: onText(payload)
                case 0x9:
                    let pong = BenchWebSocketClient.frame(opcode: 0xA, payload: ByteBuffer(payload))
                    context.writeAndFlush(wrapOutboundOut(pong), promise: nil)
                case 0x8: context.close(promise: nil)
                default: break
                }
                buffer.moveReaderIndex(forwardBy: headerLength + length)
            }
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            if !isUpgraded { upgraded.fail(error) }
            context.close(promise: nil)
        }
    }
}
