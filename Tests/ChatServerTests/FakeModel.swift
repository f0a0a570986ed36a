import Foundation
import Hummingbird
import HummingbirdTesting
import Synchronization

/// A small OpenAI-compatible model that speaks the real chat-completions protocol over HTTP.
struct CompletionRequest: Decodable {
    struct Turn: Decodable {
        var role: String
        var content: String
    }

    var model: String
    var messages: [Turn]
}

final class Received: Sendable {
    let requests = Mutex<[CompletionRequest]>([])
}

/// Runs a fake endpoint: it answers "echo: <last user message>", or fails with `failWith`.
func withFakeModel(
    failWith status: HTTPResponse.Status? = nil,
    _ body: @Sendable (String, Received) async throws -> Void
) async throws {
    let received = Received()
    let router = Router()
    router.post("v1/chat/completions") { request, context -> Response in
        guard request.headers[.authorization] == "Bearer sk-test" else {
            return Response(status: .unauthorized)
        }
        let completion = try await request.decode(as: CompletionRequest.self, context: context)
        received.requests.withLock { $0.append(completion) }
        if let status {
            return Response(
                status: status, body: .init(byteBuffer: ByteBuffer(string: "model overloaded")))
        }
        let last = completion.messages.last?.content ?? ""
        let answer: [String: Any] = [
            "id": "chatcmpl-1", "object": "chat.completion", "model": completion.model,
            "choices": [
                [
                    "index": 0, "finish_reason": "stop",
                    "message": ["role": "assistant", "content": "echo: \(last)"],
                ]
            ],
        ]
        return Response(
            status: .ok, headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: answer)))
        )
    }
    let application = Application(
        router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
    try await application.test(.live) { client in
        try await body("http://127.0.0.1:\(client.port!)/v1", received)
    }
}
