/// Every way a chat operation can be refused; the HTTP layer maps each case to one status.
public enum ChatError: Error, Equatable, Sendable {
    /// Bad input: a field, a parameter or a cursor (400).
    case invalidRequest(String, details: [String: String] = [:])
    /// The resource does not exist, or the caller may not know it does (404).
    case notFound(String)
    /// The caller knows the resource but may not do this (403).
    case forbidden(String)
    /// The request contradicts the current state (409).
    case conflict(String)
}

extension ChatError: CustomStringConvertible {
    public var description: String {
        switch self {
        case .invalidRequest(let message, _), .notFound(let message), .forbidden(let message),
            .conflict(let message):
            message
        }
    }
}
