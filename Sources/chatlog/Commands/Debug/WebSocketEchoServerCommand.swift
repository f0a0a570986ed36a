import ArgumentParser
import Foundation
import Hummingbird
import HummingbirdCore
import HummingbirdWebSocket

/// A bare Hummingbird WebSocket endpoint on `/v1/ws` that answers every text frame with a
/// `subscribed` frame and otherwise waits: the yardstick `chatlog bench ws --bare` measures the
/// framework's own cost per idle connection with.
struct WebSocketEchoServerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ws-echo-server", abstract: "Serve a bare WebSocket on /v1/ws that answers each frame.")

    @Option(help: "The port (0: any free one).") var port: Int = 8082

    func run() async throws {
        let router = Router(context: BasicWebSocketRequestContext.self)
        router.ws("/v1/ws") { inbound, outbound, _ in
            for try await frame in inbound.messages(maxSize: 1 << 16) {
                guard case .text = frame else { continue }
                try await outbound.write(.text("{\"type\":\"subscribed\"}"))
            }
        }
        let application = Application(
            router: Router(), server: .http1WebSocketUpgrade(webSocketRouter: router),
            configuration: .init(address: .hostname("127.0.0.1", port: port)),
            onServerRunning: { channel in
                Console.error("listening on http://127.0.0.1:\(channel.localAddress?.port ?? 0)")
            })
        try await application.runService()
    }
}
