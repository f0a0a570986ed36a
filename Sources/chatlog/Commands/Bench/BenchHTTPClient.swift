import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// A minimal HTTP/1.1 client for the latency runs: kept-alive connections, one request at a
/// time on each. async-http-client added about half a millisecond to every POST here, which
/// is the client's cost, not the server's.
final class BenchHTTPClient: Sendable {
    private let connections: [any Channel]
    private let pool: Mutex<(idle: [Int], waiting: [CheckedContinuation<Int, Never>])>

    /// Opens `count` connections to the server on `port`.
    init(port: Int, count: Int, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton)
        async throws
    {
        var connections: [any Channel] = []
        for _ in 0..<count {
            connections.append(
                try await ClientBootstrap(group: group)
                    .channelOption(.socketOption(.tcp_nodelay), value: 1)
                    .channelInitializer { channel in
                        channel.eventLoop.makeCompletedFuture {
                            try channel.pipeline.syncOperations.addHTTPClientHandlers()
                            try channel.pipeline.syncOperations.addHandler(Exchange())
                        }
                    }
                    .connect(host: "127.0.0.1", port: port).get())
        }
        self.connections = connections
        pool = Mutex((Array(connections.indices), []))
    }

    /// Sends a POST with a JSON body on an idle connection and returns the response's status.
    func post(_ path: String, body: String, headers: [(String, String)]) async throws -> Int {
        let index = await acquire()
        defer { release(index) }
        var head = HTTPRequestHead(version: .http1_1, method: .POST, uri: path)
        head.headers.add(name: "Host", value: "127.0.0.1")
        head.headers.add(name: "Content-Type", value: "application/json")
        head.headers.add(name: "Content-Length", value: String(body.utf8.count))
        for (name, value) in headers { head.headers.add(name: name, value: value) }
        let connection = connections[index]
        let answered = connection.eventLoop.makePromise(of: Int.self)
        connection.writeAndFlush(Request(head: head, body: ByteBuffer(string: body), answered: answered))
            .cascadeFailure(to: answered)
        return try await answered.futureResult.get()
    }

    func close() async {
        for connection in connections { try? await connection.close() }
    }

    private func acquire() async -> Int {
        await withCheckedContinuation { continuation in
            let index: Int? = pool.withLock { pool in
                guard let index = pool.idle.popLast() else {
                    pool.waiting.append(continuation)
                    return nil
                }
                return index
            }
            if let index { continuation.resume(returning: index) }
        }
    }

    private func release(_ index: Int) {
        let waiter: CheckedContinuation<Int, Never>? = pool.withLock { pool in
            guard !pool.waiting.isEmpty else {
                pool.idle.append(index)
                return nil
            }
            return pool.waiting.removeFirst()
        }
        waiter?.resume(returning: index)
    }

    private struct Request: Sendable {
        var head: HTTPRequestHead
        var body: ByteBuffer
        var answered: EventLoopPromise<Int>
    }

    /// Writes a request's parts and answers its promise with the status once its response ends.
    private final class Exchange: ChannelDuplexHandler {
        typealias InboundIn = HTTPClientResponsePart
        typealias OutboundIn = Request
        typealias OutboundOut = HTTPClientRequestPart

        private var waiting = CircularBuffer<EventLoopPromise<Int>>()
        private var status = 0

        func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
            let request = unwrapOutboundIn(data)
            waiting.append(request.answered)
            context.write(wrapOutboundOut(.head(request.head)), promise: nil)
            context.write(wrapOutboundOut(.body(.byteBuffer(request.body))), promise: nil)
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: promise)
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head(let head): status = Int(head.status.code)
            case .body: break
            case .end: waiting.popFirst()?.succeed(status)
            }
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            while let answered = waiting.popFirst() { answered.fail(error) }
            context.close(promise: nil)
        }

        func channelInactive(context: ChannelHandlerContext) {
            while let answered = waiting.popFirst() { answered.fail(ChannelError.ioOnClosedChannel) }
            context.fireChannelInactive()
        }
    }
}
