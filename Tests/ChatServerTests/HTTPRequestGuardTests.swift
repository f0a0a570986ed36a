import ChatServer
import Logging
import NIOCore
import NIOEmbedded
import NIOHTTP1
import Testing

@testable import ChatServer

/// The request guard on an embedded channel, with the event loop's clock moved by hand: each
/// timeout counts from the start of its phase, whatever arrives in between.
@Suite(.timeLimit(.minutes(1))) struct HTTPRequestGuardTests {
    private static func channel() throws -> EmbeddedChannel {
        var configuration = ConnectionConfiguration()
        configuration.headerTimeout = .seconds(10)
        configuration.bodyTimeout = .seconds(30)
        configuration.idleTimeout = .seconds(20)
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(
            HTTPRequestGuard(configuration: configuration, logger: Logger(label: "test")))
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 8080)).wait()
        return channel
    }

    private static let head = HTTPRequestHead(version: .http1_1, method: .POST, uri: "/v1/channels")

    /// The status of the response the guard wrote, if any.
    private static func answer(_ channel: EmbeddedChannel) throws -> Int? {
        guard case .head(let head) = try channel.readOutbound(as: HTTPServerResponsePart.self) else {
            return nil
        }
        return Int(head.status.code)
    }

    @Test func aBodyThatTricklesInTimesOutFromItsHead() throws {
        let channel = try Self.channel()
        try channel.writeInbound(HTTPServerRequestPart.head(Self.head))
        for _ in 0..<5 {
            channel.embeddedEventLoop.advanceTime(by: .seconds(5))
            try channel.writeInbound(HTTPServerRequestPart.body(ByteBuffer(string: "x")))
        }
        #expect(try Self.answer(channel) == nil)
        #expect(channel.isActive)
        channel.embeddedEventLoop.advanceTime(by: .seconds(6))
        #expect(try Self.answer(channel) == 408)
        #expect(!channel.isActive)
    }

    @Test func aConnectionWithNoRequestGets408AndAnIdleOneIsClosedQuietly() throws {
        let silent = try Self.channel()
        silent.embeddedEventLoop.advanceTime(by: .seconds(9))
        #expect(silent.isActive)
        silent.embeddedEventLoop.advanceTime(by: .seconds(2))
        #expect(try Self.answer(silent) == 408)

        let keptAlive = try Self.channel()
        try keptAlive.writeInbound(HTTPServerRequestPart.head(Self.head))
        try keptAlive.writeInbound(HTTPServerRequestPart.end(nil))
        // The application takes its time: no timeout runs while it handles the request.
        keptAlive.embeddedEventLoop.advanceTime(by: .seconds(60))
        #expect(keptAlive.isActive)
        try keptAlive.writeOutbound(
            HTTPServerResponsePart.head(HTTPResponseHead(version: .http1_1, status: .ok)))
        try keptAlive.writeOutbound(HTTPServerResponsePart.end(nil))
        while try keptAlive.readOutbound(as: HTTPServerResponsePart.self) != nil {}
        keptAlive.embeddedEventLoop.advanceTime(by: .seconds(19))
        #expect(keptAlive.isActive)
        keptAlive.embeddedEventLoop.advanceTime(by: .seconds(2))
        #expect(!keptAlive.isActive)
        #expect(try Self.answer(keptAlive) == nil)
    }
}
