import Chat
import Foundation
import Hummingbird
import JSONCoding

/// Strict JSON request bodies: JSON content type (415 otherwise), at most 400 KiB (413),
/// well-formed (400), no fields beyond the ones named (400), then decoded into `T`.
enum JSONBody {
    static func decode<T: Decodable>(
        _ type: T.Type, from request: Request, context: ChatRequestContext, allowedFields: Set<String>
    ) async throws -> (T, [UInt8]) {
        try checkContentType(request)
        var request = request
        let buffer = try await request.collectBody(upTo: context.maxUploadSize)
        let bytes = Array(buffer.readableBytesView)
        // One parser judges every body first, so both paths refuse the same documents (a
        // repeated key, which `JSONDecoder` would take, among them).
        _ = try parsedObject(bytes)
        let decoder = JSONDecoder()
        decoder.userInfo[StrictBody<T>.allowedFieldsKey] = allowedFields
        return (try decoder.decode(StrictBody<T>.self, from: Data(bytes)).value, bytes)
    }

    /// The hot paths' version of `decode`: the body parsed by `JSONParser` into its members,
    /// which the caller reads through `JSONObjectBody` (same checks and messages, no `Codable`).
    static func object(
        from request: Request, context: ChatRequestContext, allowedFields: Set<String>
    ) async throws -> (JSONObjectBody, [UInt8]) {
        try checkContentType(request)
        var request = request
        let buffer = try await request.collectBody(upTo: context.maxUploadSize)
        let bytes = Array(buffer.readableBytesView)
        let members = try parsedObject(bytes)
        try JSONObjectBody.refuseUnknown(Set(members.keys), allowed: allowedFields)
        return (JSONObjectBody(members: members), bytes)
    }

    private static func parsedObject(_ bytes: [UInt8]) throws -> [String: JSONValue] {
        let value: JSONValue
        do {
            value = try JSONParser.parse(bytes)
        } catch {
            throw APIError.invalidRequest("the body is not valid JSON: \(error)")
        }
        guard case .object(let members) = value else {
            throw APIError.invalidRequest("the body must be a JSON object")
        }
        return members
    }

    static func checkContentType(_ request: Request) throws {
        guard let contentType = request.headers[.contentType] else {
            throw APIError.unsupportedMediaType("the body must be JSON: set Content-Type: application/json")
        }
        // What clients nearly always send, checked without allocating.
        if contentType == "application/json" || contentType == "application/json; charset=utf-8" { return }
        let mediaType = contentType.split(separator: ";").first.map {
            $0.trimmingCharacters(in: .whitespaces).lowercased()
        }
        guard mediaType == "application/json" else {
            throw APIError.unsupportedMediaType("the body must be application/json, not \(contentType)")
        }
    }
}

/// Decodes `T` from a JSON object in one pass, refusing fields `T` does not know.
struct StrictBody<T: Decodable>: Decodable {
    static var allowedFieldsKey: CodingUserInfoKey { CodingUserInfoKey(rawValue: "chatlog.allowedFields")! }

    var value: T

    private struct AnyKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: AnyKey.self)
        let allowed = decoder.userInfo[Self.allowedFieldsKey] as? Set<String> ?? []
        try JSONObjectBody.refuseUnknown(Set(container.allKeys.map { $0.stringValue }), allowed: allowed)
        value = try T(from: decoder)
    }
}

/// The members of a JSON object body, read with the messages `Codable` decoding gives.
struct JSONObjectBody {
    let members: [String: JSONValue]

    static func refuseUnknown(_ fields: Set<String>, allowed: Set<String>) throws {
        let unknown = fields.subtracting(allowed).sorted()
        guard unknown.isEmpty else {
            throw APIError.invalidRequest(
                "unknown field\(unknown.count == 1 ? "" : "s") \(unknown.map { "'\($0)'" }.joined(separator: ", "))",
                details: ["fields": unknown.joined(separator: ",")])
        }
    }

    private static func mismatch(_ message: String) -> APIError {
        .invalidRequest("the body does not match the expected shape: \(message)")
    }

    /// A member that must be present, of any JSON type.
    func value(_ name: String) throws -> JSONValue {
        guard let value = members[name] else { throw Self.mismatch("missing field '\(name)'") }
        return value
    }

    func string(_ name: String) throws -> String {
        switch try value(name) {
        case .string(let text): return text
        case .null: throw Self.mismatch("\(name) must be a string, not null")
        default: throw Self.mismatch("\(name) must be a string")
        }
    }

    /// An object member that may be absent or null.
    func optionalObject(_ name: String) throws -> [String: JSONValue]? {
        switch members[name] {
        case nil, .null: return nil
        case .object(let members): return members
        default: throw Self.mismatch("\(name) must be an object")
        }
    }
}

/// Query parameters, parsed strictly.
extension Request {
    func integerParameter(_ name: String) throws -> UInt64? {
        guard let text = uri.queryParameters[Substring(name)] else { return nil }
        guard let value = UInt64(text) else {
            throw APIError.invalidRequest("\(name) must be a whole number", details: ["parameter": name])
        }
        return value
    }
}

/// A response body with a chosen status.
struct JSONResponse<Body: JSONWritable>: ResponseGenerator {
    var status: HTTPResponse.Status = .ok
    var body: Body

    func response(from request: Request, context: some RequestContext) throws -> Response {
        var json = JSONText(capacity: 512)
        body.write(to: &json)
        return Response(
            status: status, headers: [.contentType: "application/json; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(bytes: json.bytes)))
    }
}
