import Chat
import EventLog
import Foundation
import HTTPTypes
import Hummingbird
import Inbox
import NIOCore

extension APIError {
    /// The one place where every module's errors become HTTP errors.
    static func from(_ error: any Error) -> APIError? {
        switch error {
        case let error as APIError:
            return error
        case let error as ChatError:
            switch error {
            case .invalidRequest(let message, let details): return .invalidRequest(message, details: details)
            case .notFound(let message): return .notFound(message)
            case .forbidden(let message): return .forbidden(message)
            case .conflict(let message): return .conflict(message)
            }
        case let error as InboxError:
            switch error {
            case .invalidRequest(let message, let details): return .invalidRequest(message, details: details)
            case .notFound(let message): return .notFound(message)
            case .conflict(let message): return .conflict(message)
            }
        case let error as EventLogError:
            switch error {
            case .storageFull(let reason):
                return APIError(
                    .serviceUnavailable, code: "storage_full",
                    message: "storage is full: \(reason); writes resume once space is freed")
            case .storage(let reason):
                return APIError(
                    .serviceUnavailable, code: "storage_error",
                    message: "the storage failed this request (\(reason)); nothing of it was written, "
                        + "so it is safe to retry")
            case .unconfirmed(let reason):
                return APIError(
                    .serviceUnavailable, code: "write_unconfirmed",
                    message: "the write may or may not have been stored (\(reason)); repeat it with the "
                        + "same Idempotency-Key to store it at most once")
            case .closed:
                return APIError(
                    .serviceUnavailable, code: "not_ready", message: "the server is shutting down")
            case .invalidArgument(let message):
                return .invalidRequest(message)
            default:
                return nil
            }
        case is NIOTooManyBytesError:
            return .payloadTooLarge
        case let error as DecodingError:
            return .invalidRequest("the body does not match the expected shape: \(Self.describe(error))")
        case let error as HTTPError:
            switch error.status {
            case .contentTooLarge: return .payloadTooLarge
            case .notFound: return .notFound("no such route")
            case .badRequest: return .invalidRequest(error.body ?? "bad request")
            case .unsupportedMediaType: return .unsupportedMediaType(error.body ?? "the body must be JSON")
            default:
                return APIError(
                    error.status, code: "http_\(error.status.code)",
                    message: error.body ?? error.status.reasonPhrase)
            }
        default:
            return nil
        }
    }

    private static func describe(_ error: DecodingError) -> String {
        func path(_ context: DecodingError.Context) -> String {
            let names = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }
            return names.isEmpty ? "the body" : names.joined(separator: ".")
        }
        switch error {
        case .keyNotFound(let key, let context):
            let parent = path(context)
            return
                "missing field '\(parent == "the body" ? key.stringValue : parent + "." + key.stringValue)'"
        case .typeMismatch(let type, let context): return "\(path(context)) must be \(Self.typeName(type))"
        case .valueNotFound(let type, let context):
            return "\(path(context)) must be \(Self.typeName(type)), not null"
        case .dataCorrupted(let context): return "malformed JSON at \(path(context))"
        @unknown default: return "malformed JSON"
        }
    }

    private static func typeName(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Bool.Type: "a boolean"
        case is Int.Type, is UInt64.Type, is Double.Type: "a number"
        case is [String].Type, is [Any].Type: "an array"
        default: "an object"
        }
    }
}
