import Chat
import HTTPTypes
import Hummingbird
import JSONCoding
import Logging

/// Gives every request an id, renders every error — ours, the router's, the decoder's — in the
/// contract's envelope with `X-Request-ID`, and hides unexpected errors behind a plain 500.
struct APIMiddleware: RouterMiddleware {
    typealias Context = ChatRequestContext

    let routes: RouteTable
    let requests: RequestLog

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        var context = context
        let clientID = request.headers[.requestID].flatMap { Self.acceptable($0) ? $0 : nil }
        context.requestID = clientID ?? RandomUUID.make()
        let started = ContinuousClock.now
        var response: Response
        do {
            response = try await next(request, context)
        } catch {
            response = render(error, request: request, context: context)
        }
        response.headers[.requestID] = context.requestID
        // The router names the template it matched (`/v1/channels/{channelId}`), or "NotFound":
        // then the route table still knows the path when only the method was wrong (a 405).
        let route =
            context.endpointPath.flatMap { $0 == "NotFound" ? nil : $0 }
            ?? routes.template(for: request.uri.path) ?? "unmatched"
        requests.record(
            method: request.method.rawValue, path: request.uri.path, route: route,
            status: response.status.code, duration: ContinuousClock.now - started,
            requestID: context.requestID, client: context.clientAddress)
        return response
    }

    private func render(_ error: any Error, request: Request, context: Context) -> Response {
        var apiError: APIError
        if let mapped = APIError.from(error) {
            apiError = mapped
            if apiError.status == .notFound, apiError.message == "no such route" {
                apiError = routeError(for: request)
            }
        } else {
            context.logger.error(
                "unexpected error",
                metadata: ["error": "\(String(reflecting: error))", "requestId": "\(context.requestID)"])
            apiError = .internalError
        }
        return Self.response(for: apiError, requestID: context.requestID)
    }

    /// A 404 for an unknown path, or a 405 with `Allow` for a known path and another method.
    private func routeError(for request: Request) -> APIError {
        let allowed = routes.methods(for: request.uri.path)
        guard !allowed.isEmpty else {
            return .notFound("no route for \(request.method.rawValue) \(request.uri.path)")
        }
        var error = APIError(
            .methodNotAllowed, code: "method_not_allowed",
            message:
                "\(request.method.rawValue) is not allowed on \(request.uri.path); use \(allowed.joined(separator: ", "))",
            details: ["allow": allowed.joined(separator: ", ")])
        error.headers[.allow] = allowed.joined(separator: ", ")
        return error
    }

    static func response(for error: APIError, requestID: String) -> Response {
        var headers = error.headers
        headers[.contentType] = "application/json; charset=utf-8"
        return Response(
            status: error.status, headers: headers,
            body: .init(byteBuffer: body(for: error, requestID: requestID)))
    }

    /// The error envelope as JSON, its keys sorted. Written directly, like the success bodies: an
    /// error answer (a 401 to a client without a token, a 429 to one that sends too much) must
    /// not cost more than the request it refuses.
    static func body(for error: APIError, requestID: String) -> ByteBuffer {
        var json = JSONText(capacity: 160 + error.message.utf8.count)
        json.object { envelope in
            envelope.field("error", object: { write(error, requestID: requestID, into: &$0) })
        }
        return ByteBuffer(bytes: json.bytes)
    }

    /// The error object's members (also what a refused entry of a batch answers with).
    static func write(_ error: APIError, requestID: String?, into body: inout JSONText.ObjectWriter) {
        body.field("code", error.code)
        body.field(
            "details",
            object: { details in
                for (key, value) in error.details.sorted(by: { $0.key < $1.key }) {
                    details.field(key, value)
                }
            })
        body.field("message", error.message)
        if let requestID { body.field("requestId", requestID) }
    }

    /// A client's request id is echoed only when it is short and printable.
    private static func acceptable(_ id: String) -> Bool {
        (1...128).contains(id.utf8.count) && id.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7F }
    }
}

extension HTTPField.Name {
    static let requestID = HTTPField.Name("X-Request-ID")!
    static let idempotencyKey = HTTPField.Name("Idempotency-Key")!
    static let apiKey = HTTPField.Name("X-API-Key")!
}
