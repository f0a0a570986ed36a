import ArgumentParser
import AsyncHTTPClient
import Foundation
import HummingbirdWSClient
import NIOCore
import NIOHTTP1

/// A small chatlog client: REST on async-http-client, the WebSocket on HummingbirdWSClient.
///
///     TOKEN=$(chatlog token --user alice | tail -1)
///     swift run ChatlogClient tour --token "$TOKEN"
///     swift run ChatlogClient follow CHANNEL_ID --since 1 --token "$TOKEN"
///
/// `tour` creates a channel, posts, and reads the history back page by page. `follow` prints
/// each message of a channel as a JSON line and, after a disconnect, resumes from the last seq
/// it printed: the server replays what was missed, so nothing is lost or printed twice.
@main
struct ChatlogClient: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "A chatlog client: a tour of the REST API, or a channel followed over the WebSocket.",
        subcommands: [Tour.self, Follow.self])

    struct Options: ParsableArguments {
        @Option(help: "The server's URL.") var url = "http://localhost:8080"
        @Option(help: "A bearer token (chatlog token --user NAME).") var token: String
    }

    struct Tour: AsyncParsableCommand {
        @OptionGroup var options: Options

        func run() async throws {
            let api = ChatlogAPI(url: options.url, token: options.token)
            let created: ChannelCreated = try await api.call(.POST, "/v1/channels", ["name": "tour"])
            let channel = created.channel
            printLine(["channel": channel.id])
            for text in ["hello", "is anyone there?", "bye"] {
                let posted: Message = try await api.post(text, in: channel.id)
                printLine(["posted": posted])
            }
            let history = try await api.history(of: channel.id, pageSize: 2)
            printLine(["history": history.map(\.text)])
        }
    }

    struct Follow: AsyncParsableCommand {
        @OptionGroup var options: Options
        @Argument(help: "The channel's id.") var channel: String
        @Option(help: "The last seq you have (default: from now).") var since: UInt64?
        @Option(help: "Stop after this many messages.") var count: Int?

        func run() async throws {
            let follower = Follower(channel: channel, since: since, count: count)
            try await follower.run(url: options.url, token: options.token)
        }
    }
}

// The API's shapes, as far as this client reads them (docs/api.md, /openapi.json).
struct Channel: Codable {
    var id: String
    var name: String
}

struct Message: Codable {
    var id: String
    var channelId: String
    var seq: UInt64
    var senderId: String
    var text: String
    var createdAt: String
}

struct ChannelCreated: Codable { var channel: Channel }
struct MessagePosted: Codable { var message: Message }
struct HistoryPage: Codable {
    var messages: [Message]
    var nextCursor: String?
}

/// The error envelope: `{"error": {"code", "message", "details", "requestId"}}`.
struct APIError: Error, Codable, CustomStringConvertible {
    struct Body: Codable { var code: String; var message: String }
    var error: Body
    var description: String { "\(error.code): \(error.message)" }
}

/// The REST calls, each answered by a decoded value or an `APIError`.
struct ChatlogAPI {
    let url: String
    let token: String

    func call<Value: Decodable>(
        _ method: HTTPMethod, _ path: String, _ body: [String: String]? = nil,
        headers extra: [(String, String)] = []
    ) async throws -> Value {
        var request = HTTPClientRequest(url: url + path)
        request.method = method
        request.headers.add(name: "Authorization", value: "Bearer \(token)")
        for (name, value) in extra { request.headers.add(name: name, value: value) }
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: try JSONEncoder().encode(body)))
        }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
        let bytes = Data(try await response.body.collect(upTo: 1 << 20).readableBytesView)
        guard response.status.code < 400 else { throw try JSONDecoder().decode(APIError.self, from: bytes) }
        return try JSONDecoder().decode(Value.self, from: bytes)
    }

    /// Posts with an Idempotency-Key, so that a retry after a timeout cannot post twice.
    func post(_ text: String, in channel: String) async throws -> Message {
        let posted: MessagePosted = try await call(
            .POST, "/v1/channels/\(channel)/messages", ["text": text],
            headers: [("Idempotency-Key", UUID().uuidString)])
        return posted.message
    }

    /// Every message, oldest first: pages come newest first, each oldest first within, and a
    /// page's `nextCursor` passed back as `cursor` gives the one before it.
    func history(of channel: String, pageSize: Int) async throws -> [Message] {
        var pages: [[Message]] = []
        var cursor: String?
        repeat {
            let query = "limit=\(pageSize)" + (cursor.map { "&cursor=\($0)" } ?? "")
            let page: HistoryPage = try await call(.GET, "/v1/channels/\(channel)/messages?\(query)")
            pages.append(page.messages)
            cursor = page.nextCursor
        } while cursor != nil
        return pages.reversed().flatMap { $0 }
    }
}

/// One frame of the WebSocket, as far as a follower reads it.
struct Frame: Decodable {
    var type: String
    var channelId: String?
    var seq: UInt64?
    var message: Message?
}

/// Follows a channel over the WebSocket, printing each message, and resumes after a disconnect
/// from the last seq it saw.
actor Follower {
    let channel: String
    private var last: UInt64?
    private var remaining: Int?

    init(channel: String, since: UInt64?, count: Int?) {
        self.channel = channel
        last = since
        remaining = count
    }

    var finished: Bool { remaining == 0 }

    /// Connects, subscribes from the last seq seen, and reads until done; after a refusal or a
    /// disconnect, waits (100 ms, doubling up to 2 s) and does it again.
    func run(url: String, token: String) async throws {
        var configuration = WebSocketClientConfiguration(maxFrameSize: 1 << 20)
        configuration.additionalHeaders[.authorization] = "Bearer \(token)"
        let socketURL = url.replacingOccurrences(of: "http", with: "ws", options: .anchored) + "/v1/ws"
        var backoff = Duration.milliseconds(100)
        while !finished {
            let subscribe = Subscribe(channelId: channel, sinceSeq: last)
            do {
                _ = try await WebSocketClient.connect(
                    url: socketURL, configuration: configuration, logger: .init(label: "follow")
                ) { inbound, outbound, _ in
                    let text = String(decoding: try JSONEncoder().encode(subscribe), as: UTF8.self)
                    try await outbound.write(.text(text))
                    for try await case .text(let text) in inbound.messages(maxSize: 1 << 20) {
                        let frame = try JSONDecoder().decode(Frame.self, from: Data(text.utf8))
                        if await self.take(frame) {
                            try await outbound.close(.normalClosure, reason: nil)
                            return
                        }
                    }
                }
            } catch {
                // Refused, reset or closed: try again after the backoff.
            }
            if finished { return }
            try await Task.sleep(for: backoff)
            backoff = min(backoff * 2, .seconds(2))
        }
    }

    /// Takes one frame; true once as many messages as asked for are printed.
    private func take(_ frame: Frame) -> Bool {
        guard frame.channelId == channel, let seq = frame.seq else { return false }
        switch frame.type {
        case "subscribed" where last == nil: last = seq  // No sinceSeq: live from the head.
        case "event": last = seq  // An edit, a deletion, a membership change.
        case "message":
            last = seq
            if let message = frame.message { printLine(message) }
            remaining = remaining.map { $0 - 1 }
        default: break
        }
        return finished
    }
}

struct Subscribe: Encodable {
    var type = "subscribe"
    var channelId: String
    var sinceSeq: UInt64?
}

/// One JSON line on standard output.
func printLine(_ value: some Encodable) {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    FileHandle.standardOutput.write(((try? encoder.encode(value)) ?? Data()) + Data("\n".utf8))
}
