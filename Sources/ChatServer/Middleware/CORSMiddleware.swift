import HTTPTypes
import Hummingbird
import JSONCoding

/// Lets browser apps on the configured origins call the API (`http.corsAllowedOrigins`; none
/// by default, so browsers keep other origins out). It answers preflights itself and adds
/// `Access-Control-Allow-Origin` to every answer for an allowed origin, errors included, so an
/// app can read why a call failed. A preflight from any other origin is a 403.
struct CORSMiddleware: RouterMiddleware {
    typealias Context = ChatRequestContext

    let allowedOrigins: Set<String>

    static let allowedMethods = "GET, POST, PUT, PATCH, DELETE"
    static let allowedHeaders = "Authorization, Content-Type, Idempotency-Key, X-API-Key, X-Request-ID"
    static let exposedHeaders = "X-Request-ID, Retry-After"

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        guard let origin = request.headers[.origin] else { return try await next(request, context) }
        let allowed = allowedOrigins.contains("*") || allowedOrigins.contains(origin)
        if request.method == .options, request.headers[.accessControlRequestMethod] != nil {
            guard allowed else {
                return APIMiddleware.response(
                    for: .forbidden("the origin \(origin) may not call this API from a browser"),
                    requestID: RandomUUID.make())
            }
            var response = Response(status: .noContent)
            response.headers[.accessControlAllowMethods] = Self.allowedMethods
            response.headers[.accessControlAllowHeaders] = Self.allowedHeaders
            response.headers[.accessControlMaxAge] = "600"
            annotate(&response, origin: origin)
            return response
        }
        var response = try await next(request, context)
        if allowed { annotate(&response, origin: origin) }
        return response
    }

    private func annotate(_ response: inout Response, origin: String) {
        response.headers[.accessControlAllowOrigin] = origin
        response.headers[.accessControlExposeHeaders] = Self.exposedHeaders
        response.headers.append(HTTPField(name: .vary, value: "Origin"))
    }
}
