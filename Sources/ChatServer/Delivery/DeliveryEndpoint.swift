import Chat
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import NIOHTTP1

/// `GET /v1/ws`: the receive-only WebSocket. The upgrade needs a valid JWT (header or `token`
/// query parameter); `WebSocketUpgradeChannel` performs it and hands the socket to a
/// `DeliveryConnection`.
struct DeliveryEndpoint: Sendable {
    let hub: DeliveryHub
    let authority: TokenAuthority
    let guards: AddressGuards
    let configuration: WebSocketConfiguration
    /// Upgrades are requests too: counted, timed and access-logged like the rest.
    let requests: RequestLog
    let wakers = LoopWaker.Registry()

    static let path = "/v1/ws"

    /// The same path on the HTTP router, for requests that are not upgrades: 401 without a
    /// valid token, 400 with one.
    func addRoutes(to router: Router<ChatRequestContext>) {
        router.get(RouterPath(Self.path)) { [guards, authority] request, context -> Response in
            _ = try await guards.authenticate(from: context.clientAddress) {
                try await authority.user(
                    fromToken: try BearerAuthMiddleware.bearerToken(request, allowQuery: true))
            }
            throw APIError.invalidRequest(
                "GET /v1/ws is a WebSocket endpoint: send Connection: Upgrade and Upgrade: websocket")
        }
    }

    /// Who an upgrade request is for; a refusal has already been answered with the
    /// contract's 401 (the connection is still HTTP/1 at this point) and is nil.
    func identity(upgrading head: HTTPRequestHead, on channel: any NIOCore.Channel) async -> TokenIdentity? {
        let address = channel.clientAddress
        let started = ContinuousClock.now
        let status: Int
        defer {
            requests.record(
                method: "GET", path: Self.path, route: Self.path, status: status,
                duration: ContinuousClock.now - started, requestID: nil, client: address)
        }
        do {
            try guards.admitUpgrade(from: address)
            let identity = try await guards.authenticate(from: address) {
                let token = try BearerAuthMiddleware.bearerToken(
                    authorization: head.headers.first(name: "authorization"), uri: URI(head.uri),
                    allowQuery: true
                )
                return try await authority.identity(fromToken: token)
            }
            status = 101
            return identity
        } catch {
            let refusal = APIError.from(error) ?? .unauthorized("invalid token")
            status = refusal.status.code
            await HTTPErrorResponse.send(refusal, on: channel)
            return nil
        }
    }

    /// The handler that serves an upgraded socket.
    func connection(for identity: TokenIdentity, logger: Logger) -> DeliveryConnection {
        DeliveryConnection(
            hub: hub, user: identity.user, validUntil: identity.validUntil, configuration: configuration,
            wakers: wakers, logger: logger)
    }
}
