import Chat
import Consumers
import DynamoStreams
import EventLog
import Hummingbird
import HummingbirdCore
import Inbox
import Logging
import Prometheus
import ServiceLifecycle

/// Everything the HTTP server serves from, built once by `serve` (or a test).
public struct ChatServerDependencies: Sendable {
    public var storage: any LogBackend
    public var chat: ChatService
    public var authority: TokenAuthority
    public var apiKeys: APIKeyStore
    public var registry: PrometheusCollectorRegistry
    public var readiness: Readiness
    /// Per-address limits on failed authentication and on WebSocket upgrades.
    public var addressGuards = AddressGuards()
    /// The agent consumer group's live status, and the handle that moves it.
    public var agentStatus = ConsumerStatus()
    public var agentControl = ConsumerControl()
    /// What the agent answers with, wherever it answers: the consumer group and a re-drive.
    public var responder: any Responder
    public var logger: Logger
    /// WebSocket delivery: the hub, and the `delivery` group's status and control.
    public var hub: DeliveryHub
    public var deliveryStatus = ConsumerStatus()
    public var deliveryControl = ConsumerControl()
    /// Reads an identity provider's JWKS document again while the server runs, when one is
    /// configured.
    public var jwksRefresher: JWKSRefresher?
    /// How long a shard iterator the DynamoDB Streams API hands out stays valid.
    public var iteratorLifetime: Duration = .seconds(900)

    /// The consumer groups this server runs, with their live status and control.
    public var liveGroups: [(name: String, status: ConsumerStatus, control: ConsumerControl)] {
        [
            (AgentConsumer.group, agentStatus, agentControl),
            (DeliveryConsumer.group, deliveryStatus, deliveryControl),
        ]
    }

    public init(
        storage: any LogBackend, chat: ChatService, authority: TokenAuthority, apiKeys: APIKeyStore,
        registry: PrometheusCollectorRegistry, readiness: Readiness,
        responder: any Responder = BuiltInResponder(),
        delivery: DeliveryConfiguration = DeliveryConfiguration(), logger: Logger
    ) {
        self.responder = responder
        self.logger = logger
        self.hub = DeliveryHub(chat: chat, authority: authority, configuration: delivery, logger: logger)
        self.storage = storage
        self.chat = chat
        self.authority = authority
        self.apiKeys = apiKeys
        self.registry = registry
        self.readiness = readiness
    }
}

/// Assembles the router: operations endpoints without credentials, everything else under
/// `/v1` behind bearer auth, all of it behind the error envelope and metrics.
public enum ChatServer {
    /// Every projection the server folds the log into, in the order they apply.
    public static var projections: [any Projection] { [ChatProjection(), InboxProjection()] }

    /// The streams the server writes, as a new log creates them unless configured otherwise.
    public static var streams: [StreamConfiguration] { [.chatEvents, .triggers] }

    public static func makeRouter(
        _ dependencies: ChatServerDependencies, configuration: ServerConfiguration,
        requests: RequestLog? = nil
    ) -> Router<ChatRequestContext> {
        let requests =
            requests ?? RequestLog(registry: dependencies.registry, logger: dependencies.logger)
        let router = Router(context: ChatRequestContext.self)
        let routes = RouteTable()
        if !configuration.corsAllowedOrigins.isEmpty {
            router.add(middleware: CORSMiddleware(allowedOrigins: Set(configuration.corsAllowedOrigins)))
        }
        router.add(
            middleware: APIMiddleware(routes: routes, requests: requests))
        LogMetrics.observe(dependencies.storage, registry: dependencies.registry)
        OperationsController(
            readiness: dependencies.readiness, registry: dependencies.registry,
            scraped: [
                ConsumerMetrics(
                    storage: dependencies.storage, registry: dependencies.registry,
                    groups: dependencies.liveGroups.map { ($0.name, $0.status) }),
                DeliveryMetrics(hub: dependencies.hub, registry: dependencies.registry),
                StorageMetrics(storage: dependencies.storage, registry: dependencies.registry),
                ProcessMetrics(registry: dependencies.registry),
            ]
        ).addRoutes(to: router)
        deliveryEndpoint(dependencies, configuration: configuration, requests: requests).addRoutes(to: router)
        let console = ConsoleController(dev: configuration.development, authority: dependencies.authority)
        console.addRoutes(to: router)
        console.addDevelopmentRoutes(to: router)
        let rateLimiter = RateLimiter(configuration: configuration.rateLimit)
        let api = router.group("v1").add(
            middleware: BearerAuthMiddleware(
                authority: dependencies.authority, guards: dependencies.addressGuards,
                rateLimiter: rateLimiter))
        ChannelController(chat: dependencies.chat).addRoutes(to: api)
        MessageController(chat: dependencies.chat).addRoutes(to: api)
        let admin = router.group("v1/admin").add(
            middleware: APIKeyMiddleware(
                store: dependencies.apiKeys, scope: .admin, guards: dependencies.addressGuards,
                rateLimiter: rateLimiter))
        AdminController(dependencies: dependencies).addRoutes(to: admin)
        let inbox = router.group("v1").add(
            middleware: APIKeyMiddleware(
                store: dependencies.apiKeys, scope: .events, guards: dependencies.addressGuards,
                rateLimiter: rateLimiter))
        InboxController(inbox: InboxService(log: dependencies.storage)).addRoutes(to: inbox)
        DynamoStreamsController(
            api: DynamoStreamsAPI(
                log: EventLog(storage: dependencies.storage, iteratorLifetime: dependencies.iteratorLifetime)),
            apiKeys: dependencies.apiKeys,
            guards: dependencies.addressGuards, rateLimiter: rateLimiter
        ).addRoutes(to: router)
        ConversationController(
            chat: dependencies.chat, storage: dependencies.storage,
            replyTimeout: configuration.agentReplyTimeout
        ).addRoutes(to: api)
        routes.fill(from: router)
        return router
    }

    private static func deliveryEndpoint(
        _ dependencies: ChatServerDependencies, configuration: ServerConfiguration, requests: RequestLog
    ) -> DeliveryEndpoint {
        DeliveryEndpoint(
            hub: dependencies.hub, authority: dependencies.authority, guards: dependencies.addressGuards,
            configuration: configuration.webSocket, requests: requests)
    }

    /// The HTTP/1 server with the WebSocket upgrade on `/v1/ws`.
    public static func makeServerBuilder(
        _ dependencies: ChatServerDependencies, configuration: ServerConfiguration, requests: RequestLog
    ) -> HTTPServerBuilder {
        let endpoint = deliveryEndpoint(dependencies, configuration: configuration, requests: requests)
        let limiter = ConnectionLimiter(
            configuration: configuration.connections, registry: dependencies.registry)
        return HTTPServerBuilder { responder in
            WebSocketUpgradeChannel(
                responder: responder, endpoint: endpoint, limiter: limiter,
                connections: configuration.connections)
        }
    }

    /// The service that runs WebSocket delivery; list it after the application.
    public static func makeDeliveryService(
        _ dependencies: ChatServerDependencies, configuration: ServerConfiguration, logger: Logger
    ) -> some Service {
        DeliveryService(
            hub: dependencies.hub,
            runner: DeliveryConsumer.runner(
                storage: dependencies.storage, hub: dependencies.hub, status: dependencies.deliveryStatus,
                control: dependencies.deliveryControl, logger: logger),
            drainTimeout: configuration.webSocket.closeTimeout)
    }

    public static func makeApplication(
        _ dependencies: ChatServerDependencies, configuration: ServerConfiguration, logger: Logger,
        onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) -> some ApplicationProtocol {
        let requests = RequestLog(
            registry: dependencies.registry, accessLog: configuration.accessLog, logger: logger)
        return Application(
            router: makeRouter(dependencies, configuration: configuration, requests: requests),
            server: makeServerBuilder(dependencies, configuration: configuration, requests: requests),
            configuration: .init(
                address: .hostname(configuration.host, port: configuration.port), serverName: "chatlog"),
            onServerRunning: { channel in
                await onServerRunning(channel.localAddress?.port ?? configuration.port)
            },
            logger: logger)
    }
}
