import ArgumentParser
import Foundation
import Hummingbird

/// A bare Hummingbird route that decodes and encodes the same JSON as a message post: the
/// yardstick `tools/bench-http.sh` measures chatlog's own POST against.
struct EchoServerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "echo-server", abstract: "Serve POST /echo: decode a message body, encode a message.")

    @Option(help: "The port.") var port: Int = 8081

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
            return Echo(
                message: EchoMessage(
                    id: "01a201b4-7438-70da-b77a-006da2494d8b", channelId: "general", seq: 1,
                    senderId: "bench",
                    text: body.text, createdAt: "2026-11-22T05:22:13.176218Z"))
        }
        let application = Application(
            router: router, configuration: .init(address: .hostname("127.0.0.1", port: port)))
        try await application.runService()
    }
}
