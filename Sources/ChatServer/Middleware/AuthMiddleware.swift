import Hummingbird
import HummingbirdCore

/// Requires a bearer JWT and puts its user in the context; then applies the user's rate limit.
struct BearerAuthMiddleware: RouterMiddleware {
    typealias Context = ChatRequestContext

    let authority: TokenAuthority
    let guards: AddressGuards
    let rateLimiter: RateLimiter

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        var context = context
        context.user = try await guards.authenticate(from: context.clientAddress) {
            try await authority.user(fromToken: try Self.bearerToken(request))
        }
        try rateLimiter.admit("user:" + context.user!)
        return try await next(request, context)
    }
}

extension BearerAuthMiddleware {
    /// The token of an `Authorization: Bearer` header; with `allowQuery`, else a `token` query
    /// parameter (browsers cannot set headers on a WebSocket).
    static func bearerToken(_ request: Request, allowQuery: Bool = false) throws -> String {
        try bearerToken(
            authorization: request.headers[.authorization], uri: request.uri, allowQuery: allowQuery)
    }

    /// `bearerToken` from the parts of a request that has not reached the router.
    static func bearerToken(authorization header: String?, uri: URI, allowQuery: Bool) throws -> String {
        guard let header else {
            if allowQuery, let token = uri.queryParameters["token"] { return String(token) }
            throw APIError.unauthorized(
                allowQuery
                    ? "missing Authorization: Bearer <token> or a token query parameter"
                    : "missing Authorization: Bearer <token>")
        }
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else {
            throw APIError.unauthorized("the Authorization header must be 'Bearer <token>'")
        }
        return String(parts[1])
    }
}

/// Requires a service API key in `X-API-Key` that holds `scope`.
struct APIKeyMiddleware: RouterMiddleware {
    typealias Context = ChatRequestContext

    let store: APIKeyStore
    let scope: APIKeyScope
    let guards: AddressGuards
    let rateLimiter: RateLimiter

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        let caller = try await guards.authenticate(from: context.clientAddress) {
            guard let secret = request.headers[.apiKey] else {
                throw APIError.unauthorized("missing X-API-Key header")
            }
            guard let caller = try store.authenticate(secret) else {
                throw APIError.unauthorized("invalid API key")
            }
            return caller
        }
        guard caller.scopes.contains(scope) else {
            throw APIError.forbidden(
                "this API key lacks the '\(scope.rawValue)' scope; create one that holds it with "
                    + "`chatlog apikey create --scope \(scope.rawValue)`")
        }
        var context = context
        context.apiKeyID = caller.keyID
        try rateLimiter.admit("key:" + caller.keyID)
        return try await next(request, context)
    }
}
