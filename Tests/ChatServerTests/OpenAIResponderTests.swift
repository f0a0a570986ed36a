import Chat
import Foundation
import Hummingbird
import HummingbirdTesting
import Synchronization
import Testing

/// The OpenAI-compatible responder against a small server that speaks the real
/// chat-completions protocol over HTTP.
@Suite(.timeLimit(.minutes(1))) struct OpenAIResponderTests {
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
