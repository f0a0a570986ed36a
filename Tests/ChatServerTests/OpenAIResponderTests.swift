import Chat
import Foundation
import Hummingbird
import HummingbirdTesting
import Synchronization
import Testing

/// The OpenAI-compatible responder against a small server that speaks the real
/// chat-completions protocol over HTTP.
@Suite(.timeLimit(.minutes(1))) struct OpenAIResponderTests {
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
    private func withFakeModel(
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

    @Test func itSendsTheConversationAndReturnsTheCompletion() async throws {
        try await withFakeModel { baseURL, received in
            var configuration = OpenAIResponder.Configuration(
                baseURL: baseURL, model: "tiny", apiKey: "sk-test")
            configuration.systemPrompt = "be brief"
            let responder = OpenAIResponder(configuration: configuration)
            let reply = try await responder.reply(to: [
                ConversationTurn(role: .user, text: "hi"), ConversationTurn(role: .assistant, text: "hello"),
                ConversationTurn(role: .user, text: "what now?"),
            ])
            #expect(reply == "echo: what now?")
            let request = try #require(received.requests.withLock { $0.first })
            #expect(request.model == "tiny")
            #expect(request.messages.map(\.role) == ["system", "user", "assistant", "user"])
            #expect(request.messages.first?.content == "be brief")
        }
    }

    @Test func anErrorStatusIsAFailureTheAgentRetries() async throws {
        try await withFakeModel(failWith: .serviceUnavailable) { baseURL, _ in
            let responder = OpenAIResponder(
                configuration: .init(baseURL: baseURL, model: "tiny", apiKey: "sk-test"))
            await #expect(throws: OpenAIResponder.Failure.status(503, "model overloaded")) {
                _ = try await responder.reply(to: [ConversationTurn(role: .user, text: "hi")])
            }
        }
    }

    @Test func aWrongKeyIsRefusedByTheEndpoint() async throws {
        try await withFakeModel { baseURL, _ in
            let responder = OpenAIResponder(
                configuration: .init(baseURL: baseURL, model: "tiny", apiKey: "wrong"))
            await #expect(throws: OpenAIResponder.Failure.self) {
                _ = try await responder.reply(to: [ConversationTurn(role: .user, text: "hi")])
            }
        }
    }
}
