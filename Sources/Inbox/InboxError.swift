/// Every way an inbox operation can be refused; the HTTP layer maps each case to one status.
public enum InboxError: Error, Equatable, Sendable {
    /// Bad input (400).
    case invalidRequest(String, details: [String: String] = [:])
    /// No such event, or it was deleted (404).
    case notFound(String)
    /// The event is not pending any more (409).
    case conflict(String)
}

extension InboxError: CustomStringConvertible {
    public var description: String {
        switch self {
        case .invalidRequest(let message, _), .notFound(let message), .conflict(let message): message
        }
    }
}
