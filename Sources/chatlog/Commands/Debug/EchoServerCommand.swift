import ArgumentParser
import Foundation
import Hummingbird
import JSONCoding

/// Bare Hummingbird routes: one decodes and encodes the same JSON as a message post, the
/// yardstick `tools/bench-http.sh` measures chatlog's own POST against; with `--data-dir`,
/// another does the same and stores its answer durably in raw LMDB first (`DurableEchoStore`);
/// the last parses an event batch with chatlog's parser and answers each entry, storing
/// nothing: the ceiling `tools/bench-peers.sh` puts beside batch ingest.
struct EchoServerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "echo-server",
        abstract:
            "Serve POST /echo (a message) and POST /echo-batch (an event batch), storing nothing; with --data-dir, also POST /echo-durable."
    )

    @Option(help: "The port (0: any free one).") var port: Int = 8081
    @Option(
        help: "A directory for POST /echo-durable's raw LMDB environment (the route is served only with it).")
    var dataDir: String?

    struct Body: Codable {
        var text: String
    }

    struct Echo: ResponseEncodable {
        var message: EchoMessage
    }

    struct EchoMessage: Codable {
        var id: String
        var channelId: String
        var seq: UInt64
        var senderId: String
        var text: String
        var createdAt: String
    }

    func run() async throws {
        let router = Router()
        router.post("echo") { request, context -> Echo in
            let body = try await request.decode(as: Body.self, context: context)
            return Self.echo(body.text)
        }
        if let dataDir {
            let store = try DurableEchoStore(directory: dataDir)
            let encoder = JSONEncoder()
            router.post("echo-durable") { request, context -> Response in
                let body = try await request.decode(as: Body.self, context: context)
                let answer = try encoder.encode(Self.echo(body.text))
                _ = try await store.append(Array(answer))
                return Response(
                    status: .created, headers: [.contentType: "application/json"],
                    body: .init(byteBuffer: ByteBuffer(bytes: answer)))
            }
        }
        router.post("echo-batch") { request, context -> Response in
            let body = try await request.body.collect(upTo: 4 << 20)
            guard case .object(let members) = try JSONParser.parse(Array(body.readableBytesView)),
                case .array(let events) = members["events"]
            else { throw HTTPError(.badRequest) }
            var json = JSONText(capacity: 96 * events.count)
            json.object { object in
                object.field("failedCount", UInt64(0))
                object.field("results", array: events) { json, _ in
                    json.object { entry in
                        entry.field("eventId", "01a201b4-7438-70da-b77a-006da2494d8b")
                        entry.field("createdAt", "2026-11-22T05:22:13.176218Z")
                        entry.field("status", "pending")
                        entry.field("created", true)
                    }
                }
            }
            return Response(
                status: .ok, headers: [.contentType: "application/json"],
                body: .init(byteBuffer: ByteBuffer(bytes: json.bytes)))
        }
        let application = Application(
            router: router, configuration: .init(address: .hostname("127.0.0.1", port: port)),
            onServerRunning: { channel in
                Console.out("listening on http://127.0.0.1:\(channel.localAddress?.port ?? 0)")
            })
        try await application.runService()
    }

    private static func echo(_ text: String) -> Echo {
        Echo(
            message: EchoMessage(
                id: "01a201b4-7438-70da-b77a-006da2494d8b", channelId: "general", seq: 1, senderId: "bench",
                text: text, createdAt: "2026-11-22T05:22:13.176218Z"))
    }
}
