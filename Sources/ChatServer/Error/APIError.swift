import HTTPTypes
import Hummingbird

/// An error as clients see it: a status, a stable code, a message and details, rendered as
/// `{"error": {"code", "message", "details", "requestId"}}`.
public struct APIError: Error, Sendable, Equatable {
    public var status: HTTPResponse.Status
    public var code: String
    public var message: String
    public var details: [String: String]
    public var headers: HTTPFields = [:]

    public init(_ status: HTTPResponse.Status, code: String, message: String, details: [String: String] = [:])
    {
        self.status = status
        self.code = code
        self.message = message
        self.details = details
    }

    public static func invalidRequest(_ message: String, details: [String: String] = [:]) -> APIError {
        APIError(.badRequest, code: "invalid_request", message: message, details: details)
    }
    public static func unauthorized(_ message: String) -> APIError {
        APIError(.unauthorized, code: "unauthorized", message: message)
    }
    public static func forbidden(_ message: String) -> APIError {
        APIError(.forbidden, code: "forbidden", message: message)
    }
    public static func notFound(_ message: String) -> APIError {
        APIError(.notFound, code: "not_found", message: message)
    }
    public static func conflict(_ message: String) -> APIError {
        APIError(.conflict, code: "conflict", message: message)
    }
    public static let payloadTooLarge = APIError(
        .contentTooLarge, code: "payload_too_large", message: "the request body is larger than 409600 bytes",
        details: ["limit": "409600"])
    public static func unsupportedMediaType(_ message: String) -> APIError {
        APIError(.unsupportedMediaType, code: "unsupported_media_type", message: message)
    }
    public static let internalError = APIError(
        .internalServerError, code: "internal", message: "an unexpected error occurred; it has been logged")

    public static func == (lhs: APIError, rhs: APIError) -> Bool {
        lhs.status == rhs.status && lhs.code == rhs.code && lhs.message == rhs.message
            && lhs.details == rhs.details
    }
}
