import Foundation

/// One turn of a conversation the agent answers.
public struct ConversationTurn: Sendable, Equatable {
    public enum Role: String, Sendable {
        case user, assistant
    }

    public var role: Role
    public var text: String

    public init(role: Role, text: String) {
        self.role = role
        self.text = text
    }
}

/// Produces the agent's reply to a conversation (oldest turn first, the message to answer last).
public protocol Responder: Sendable {
    func reply(to conversation: [ConversationTurn]) async throws -> String
}

/// The built-in responder: offline and deterministic, so the same conversation always gets the
/// same reply — which is what tests and recovery drills need to compare runs.
public struct BuiltInResponder: Responder {
    public init() {}

    public func reply(to conversation: [ConversationTurn]) async throws -> String {
        guard let last = conversation.last(where: { $0.role == .user }) else {
            return "Hello! Ask me anything."
        }
        let words = last.text.split(whereSeparator: \.isWhitespace).count
        let userTurns = conversation.filter { $0.role == .user }.count
        let text = last.text.trimmingCharacters(in: .whitespacesAndNewlines)
        if text.lowercased().hasPrefix("help") {
            return
                "I am chatlog's built-in agent. I answer every message in channels created with \"agent\": true; "
                + "configure an OpenAI-compatible model to get real answers."
        }
        let quoted = text.count > 80 ? String(text.prefix(77)) + "..." : text
        return "You said \"\(quoted)\" (\(words) word\(words == 1 ? "" : "s")). "
            + "That is message \(userTurns) of yours in this conversation I have read."
    }
}
