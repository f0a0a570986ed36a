import Foundation
import HummingbirdWSClient
import Logging
import NIOWebSocket
import Testing

/// Frames a probe has received, in order, for the test to take one at a time.
public actor FrameInbox {
    private var frames: [String] = []
    private var waiter: CheckedContinuation<String?, Never>?
    private var finished = false

    public func put(_ text: String) {
        if let waiter {
            self.waiter = nil
            waiter.resume(returning: text)
        } else {
            frames.append(text)
        }
    }

    public func finish() {
        finished = true
        waiter?.resume(returning: nil)
        waiter = nil
    }

    public func next() async -> String? {
        if !frames.isEmpty { return frames.removeFirst() }
        if finished { return nil }
        return await withCheckedContinuation { waiter = $0 }
    }
}

/// Lets a probe read a number of frames and then stop reading until released: a slow client.
public actor ReadGate {
    private var remaining: Int?
    private var waiter: CheckedContinuation<Void, Never>?

    public init(limit: Int?) { remaining = limit }

    public func pass() async {
        guard let left = remaining else { return }
        if left > 0 {
            remaining = left - 1
            return
        }
        await withCheckedContinuation { waiter = $0 }
    }

    public func release() {
        remaining = nil
        waiter?.resume()
        waiter = nil
    }
}

public struct ProbeTimeout: Error {}

/// A real WebSocket client (HummingbirdWSClient) on the test server's `/v1/ws`.
public struct WebSocketProbe {
    public let inbox = FrameInbox()
    public let gate: ReadGate
    private let outgoing: AsyncStream<String>.Continuation
    private let run: Task<WebSocketCloseFrame?, any Error>

    /// Connects with the token in the Authorization header (or the query, with `tokenInQuery`);
    /// with `readLimit` it reads that many frames and then stops reading until `resumeReading`.
    public init(port: Int, token: String, tokenInQuery: Bool = false, readLimit: Int? = nil) {
        let (stream, outgoing) = AsyncStream<String>.makeStream()
        self.outgoing = outgoing
        let gate = ReadGate(limit: readLimit)
        self.gate = gate
        let inbox = inbox
        var configuration = WebSocketClientConfiguration(maxFrameSize: 1 << 20)
        if !tokenInQuery { configuration.additionalHeaders[.authorization] = "Bearer \(token)" }
        let url = "ws://127.0.0.1:\(port)/v1/ws" + (tokenInQuery ? "?token=\(token)" : "")
        run = Task {
            defer { Task { await inbox.finish() } }
            return try await WebSocketClient.connect(
                url: url, configuration: configuration, logger: Logger(label: "probe")
            ) { inbound, outbound, _ in
                try await withThrowingTaskGroup(of: Void.self) { tasks in
                    tasks.addTask {
                        for await text in stream { try await outbound.write(.text(text)) }
                        try await outbound.close(.normalClosure, reason: nil)
                    }
                    var frames = inbound.messages(maxSize: 1 << 20).makeAsyncIterator()
                    while true {
                        await gate.pass()
                        guard let message = try await frames.next() else { break }
                        if case .text(let text) = message { await inbox.put(text) }
                    }
                    await inbox.finish()
                    tasks.cancelAll()
                }
            }
        }
    }

    public func send(_ frame: [String: Any]) throws {
        outgoing.yield(String(decoding: try JSONSerialization.data(withJSONObject: frame), as: UTF8.self))
    }

    public func sendText(_ text: String) {
        outgoing.yield(text)
    }

    /// The next frame as JSON; fails the test if none comes within ten seconds.
    public func next() async throws -> [String: Any] {
        let inbox = inbox
        let text = try await withThrowingTaskGroup(of: String?.self) { tasks in
            tasks.addTask { await inbox.next() }
            tasks.addTask {
                try await Task.sleep(for: .seconds(10))
                throw ProbeTimeout()
            }
            let text = try await tasks.next()!
            tasks.cancelAll()
            return text
        }
        let frame = try #require(text, "the socket closed")
        return try #require(try JSONSerialization.jsonObject(with: Data(frame.utf8)) as? [String: Any])
    }

    /// Subscribes and returns the `subscribed` frame.
    @discardableResult
    public func subscribe(_ channelID: String, sinceSeq: UInt64? = nil) async throws -> [String: Any] {
        var frame: [String: Any] = ["type": "subscribe", "channelId": channelID]
        if let sinceSeq { frame["sinceSeq"] = sinceSeq }
        try send(frame)
        let reply = try await next()
        #expect(reply["type"] as? String == "subscribed", "\(reply)")
        return reply
    }

    public func resumeReading() async { await gate.release() }

    /// Closes from the client side and returns the server's close frame.
    @discardableResult
    public func close() async throws -> WebSocketCloseFrame? {
        outgoing.finish()
        return try await run.value
    }

    /// Waits for the connection to end (the server closed it) and returns the close frame.
    public func closed() async throws -> WebSocketCloseFrame? {
        try await run.value
    }
}

/// Sends one raw HTTP/1.1 request on a new connection and returns the status and body (the
/// server closes after a refused upgrade).
public func rawUpgradeRequest(port: Int, headers: [String]) async throws -> (status: Int, body: [String: Any])
{
    let text = String(decoding: await rawUpgrade(port: port, headers: headers), as: UTF8.self)
    let status = Int(text.split(separator: " ").dropFirst().first ?? "") ?? 0
    let body = text.components(separatedBy: "\r\n\r\n").dropFirst().joined()
    return (status, (try? JSONSerialization.jsonObject(with: Data(body.utf8))) as? [String: Any] ?? [:])
}

/// Sends an upgrade request on a new connection and returns every byte the server sends until
/// it closes the connection. A connection still open after `timeout` seconds is a test failure.
/// The client never answers a ping.
///
/// The blocking socket calls run on a thread of their own: blocking one of the cooperative
/// pool's two threads here would starve the in-process server that is meant to answer.
///
/// `before` goes first on the connection (an earlier request); `frames` go right after the request (before the 101 arrives); `reply` is sent once, as soon as
/// what has arrived satisfies `when`.
public func rawUpgrade(
    port: Int, headers: [String], timeout: Int = 20, before: String = "", frames: [UInt8] = [],
    reply: (bytes: [UInt8], when: @Sendable ([UInt8]) -> Bool)? = nil
) async -> [UInt8] {
    let result = await withCheckedContinuation { continuation in
        Thread {
            continuation.resume(
                returning: blockingUpgrade(
                    port: port, headers: headers, timeout: timeout, before: before, frames: frames,
                    reply: reply))
        }
        .start()
    }
    switch result {
    case .success(let bytes): return bytes
    case .failure(let error):
        Issue.record("raw upgrade: \(error.message)")
        return []
    }
}

private struct SocketFailure: Error {
    var message: String
}

/// A client frame (masked, as a client's must be).
public func maskedFrame(opcode: UInt8, fin: Bool = true, _ payload: [UInt8]) -> [UInt8] {
    precondition(payload.count < 126)
    let mask: [UInt8] = [0x37, 0xFA, 0x21, 0x3D]
    return [(fin ? 0x80 : 0) | opcode, 0x80 | UInt8(payload.count)] + mask
        + payload.enumerated().map { $0.element ^ mask[$0.offset % 4] }
}

/// The server's (unmasked) frames in `bytes`, which start at a frame: opcode and payload each.
public func serverFrames(_ bytes: some Collection<UInt8>) -> [(opcode: UInt8, payload: [UInt8])] {
    let bytes = Array(bytes)
    var frames: [(opcode: UInt8, payload: [UInt8])] = []
    var index = 0
    while index + 2 <= bytes.count {
        let length = Int(bytes[index + 1] & 0x7F)
        guard length < 126, index + 2 + length <= bytes.count else { break }
        frames.append((bytes[index] & 0x0F, Array(bytes[(index + 2)..<(index + 2 + length)])))
        index += 2 + length
    }
    return frames
}

private func blockingUpgrade(
    port: Int, headers: [String], timeout: Int, before: String, frames: [UInt8],
    reply: (bytes: [UInt8], when: @Sendable ([UInt8]) -> Bool)?
) -> Result<[UInt8], SocketFailure> {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { return .failure(SocketFailure(message: "socket() failed")) }
    defer { close(fd) }
    var limit = timeval(tv_sec: timeout, tv_usec: 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    let connected = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
        }
    }
    guard connected == 0 else { return .failure(SocketFailure(message: "connect() failed")) }
    let request =
        ([
            "GET /v1/ws HTTP/1.1", "Host: 127.0.0.1", "Connection: Upgrade", "Upgrade: websocket",
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Version: 13",
        ] + headers)
        .joined(separator: "\r\n") + "\r\n\r\n"
    let bytes = Array((before + request).utf8) + frames
    _ = send(fd, bytes, bytes.count, 0)
    var response: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 4096)
    var replied = reply == nil
    while true {
        let count = recv(fd, &buffer, buffer.count, 0)
        if count < 0, errno == EAGAIN || errno == EWOULDBLOCK {
            return .failure(
                SocketFailure(message: "the server did not close the connection within \(timeout) s"))
        }
        if count <= 0 { break }
        response += buffer[..<count]
        if !replied, let reply, reply.when(response) {
            replied = true
            _ = send(fd, reply.bytes, reply.bytes.count, 0)
        }
    }
    return .success(response)
}
