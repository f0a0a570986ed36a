import AsyncHTTPClient
import Foundation
import NIOCore

/// A responder that asks an OpenAI-compatible chat-completions endpoint: Ollama, vLLM,
/// llama.cpp's server, or a hosted model.
public struct OpenAIResponder: Responder {
    public struct Configuration: Sendable {
        /// The API root, e.g. `http://127.0.0.1:11434/v1`; `/chat/completions` is appended.
        public var baseURL: String
        public var model: String
        public var apiKey: String?
        public var timeout: Duration = .seconds(30)
        public var systemPrompt = "You are a helpful assistant in a team chat. Answer briefly."

        public init(baseURL: String, model: String, apiKey: String? = nil) {
            self.baseURL = baseURL
            self.model = model
            self.apiKey = apiKey
        }
    }

    /// Why a completion could not be had; the agent retries, then dead-letters.
    public enum Failure: Error, Equatable, CustomStringConvertible {
        case status(Int, String)
        case malformedResponse(String)
        case emptyReply

        public var description: String {
            switch self {
            case .status(let code, let body): "the model endpoint answered \(code): \(body)"
            case .malformedResponse(let reason):
                "the model endpoint's answer was not a chat completion: \(reason)"
            case .emptyReply: "the model returned an empty reply"
            }
        }
    }

    struct Request: Encodable {
        struct Turn: Codable {
            var role: String
            var content: String
        }

        var model: String
        var messages: [Turn]
        var stream = false
    }

    struct Response: Decodable {
        struct Choice: Decodable {
            var message: Request.Turn
        }

        var choices: [Choice]
    }

    public let configuration: Configuration
    private let client: HTTPClient

    public init(configuration: Configuration, client: HTTPClient = .shared) {
        self.configuration = configuration
        self.client = client
    }

    public func reply(to conversation: [ConversationTurn]) async throws -> String {
        let messages =
            [Request.Turn(role: "system", content: configuration.systemPrompt)]
            + conversation.map { Request.Turn(role: $0.role.rawValue, content: $0.text) }
        var request = HTTPClientRequest(url: configuration.baseURL.trimmingSuffix("/") + "/chat/completions")
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        if let key = configuration.apiKey, !key.isEmpty {
            request.headers.add(name: "Authorization", value: "Bearer \(key)")
        }
        request.body = .bytes(
            ByteBuffer(
                bytes: try JSONEncoder().encode(Request(model: configuration.model, messages: messages))))
        let seconds = configuration.timeout.components.seconds
        let response = try await client.execute(request, timeout: .seconds(max(1, seconds)))
        let body = try await response.body.collect(upTo: 4 << 20)
        guard response.status.code == 200 else {
            throw Failure.status(Int(response.status.code), String(String(buffer: body).prefix(200)))
        }
        let completion: Response
        do {
            completion = try JSONDecoder().decode(Response.self, from: Data(body.readableBytesView))
        } catch {
            throw Failure.malformedResponse("\(error)")
        }
        guard
            let content = completion.choices.first?.message.content.trimmingCharacters(
                in: .whitespacesAndNewlines),
            !content.isEmpty
        else { throw Failure.emptyReply }
        return content
    }
}

extension String {
    fileprivate func trimmingSuffix(_ suffix: String) -> String {
        hasSuffix(suffix) ? String(dropLast(suffix.count)) : self
    }
}
