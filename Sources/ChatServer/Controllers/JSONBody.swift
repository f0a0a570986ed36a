import Chat
import Foundation
import Hummingbird

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
        let decoder = JSONDecoder()
        decoder.userInfo[StrictBody<T>.allowedFieldsKey] = allowedFields
        do {
            return (try decoder.decode(StrictBody<T>.self, from: Data(bytes)).value, bytes)
        } catch DecodingError.typeMismatch(_, let context) where context.codingPath.isEmpty {
            throw APIError.invalidRequest("the body must be a JSON object")
        } catch DecodingError.dataCorrupted(let context) where context.codingPath.isEmpty {
            throw APIError.invalidRequest("the body is not valid JSON")
        }
    }

    static func checkContentType(_ request: Request) throws {
        guard let contentType = request.headers[.contentType] else {
            throw APIError.unsupportedMediaType("the body must be JSON: set Content-Type: application/json")
        }
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
        let unknown = container.allKeys.map(\.stringValue).filter { !allowed.contains($0) }.sorted()
        guard unknown.isEmpty else {
            throw APIError.invalidRequest(
                "unknown field\(unknown.count == 1 ? "" : "s") \(unknown.map { "'\($0)'" }.joined(separator: ", "))",
                details: ["fields": unknown.joined(separator: ",")])
        }
        value = try T(from: decoder)
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
