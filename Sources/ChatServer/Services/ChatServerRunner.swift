import Chat
import Consumers
import DynamoStreams
import EventLog
import Hummingbird
import Inbox
import LogBackends
import Logging
import Prometheus
import ServiceLifecycle

/// Everything `chatlog serve` runs, assembled from configuration: the log, the chat domain,
/// authentication and the HTTP server, as one service group that stops in reverse order on
/// SIGTERM or SIGINT.
public struct ChatServerRunner: Sendable {
    public var dataDirectory: String
    public var log: LogConfiguration
    public var chat: ChatConfiguration
    public var server: ServerConfiguration
    public var registry: PrometheusCollectorRegistry
    public var logger: Logger

    public init(
        dataDirectory: String, log: LogConfiguration, chat: ChatConfiguration, server: ServerConfiguration,
        registry: PrometheusCollectorRegistry, logger: Logger
    ) {
        self.dataDirectory = dataDirectory
        self.log = log
        self.chat = chat
        self.server = server
        self.registry = registry
        self.logger = logger
    }

    /// Opens the log and builds the dependencies the server serves from.
    public func makeDependencies() async throws -> ChatServerDependencies {
        let storage = try LogBackends.open(
            directory: dataDirectory, configuration: log, projections: ChatServer.projections,
            stateTables: ConnectionRegistry.tables + DynamoStreamsAPI.tables, logger: logger)
        do {
            let secret = try server.auth.jwtSecret ?? DevelopmentSecret.load(directory: dataDirectory)
            let authority = try await TokenAuthority(
                secret: secret, publicKeyPEM: server.auth.publicKeyPEM, publicKeyID: server.auth.publicKeyID,
                clockLeeway: server.auth.clockLeeway)
            var dependencies = ChatServerDependencies(
                storage: storage, chat: ChatService(log: storage, configuration: chat), authority: authority,
                apiKeys: APIKeyStore(directory: dataDirectory), registry: registry, readiness: Readiness(),
                responder: server.agent.makeResponder(), delivery: server.webSocket.delivery, logger: logger)
            dependencies.addressGuards = AddressGuards(configuration: server.rateLimit)
            if let jwks = server.auth.jwks {
                let refresher = JWKSRefresher(authority: authority, configuration: jwks, logger: logger)
                let count = try await refresher.load()
                logger.info("JWKS read", metadata: ["keys": "\(count)", "source": "\(jwks.source)"])
                dependencies.jwksRefresher = refresher
            }
            dependencies.iteratorLifetime = log.iteratorLifetime
            // Before the server listens: no connection from a previous process is left registered.
            try await dependencies.hub.start()
            return dependencies
        } catch {
            storage.close()
            throw error
        }
    }

    /// Runs until SIGTERM or SIGINT; `onListening` gets the bound port.
    public func run(onListening: @escaping @Sendable (Int) async -> Void = { _ in }) async throws {
        var server = server
        server.connections = FileDescriptorLimit.fit(
            server.connections, within: FileDescriptorLimit.raise(logger: logger), logger: logger)
        let dependencies = try await makeDependencies()
        let readiness = dependencies.readiness
        let shards = try dependencies.storage.descriptor(.chatEvents).shards.count
        for group in dependencies.liveGroups {
            readiness.require(group: group.name, status: group.status, shards: shards)
        }
        let logger = logger
        let (dataDirectory, host) = (dataDirectory, server.host)
        let adminKey = dependencies.apiKeys.createProcessKey(id: "chatlog-command-line")
        let application = ChatServer.makeApplication(dependencies, configuration: server, logger: logger) {
            port in
            do {
                try ServerAddressFile.write(
                    host: host, port: port, adminKey: adminKey, directory: dataDirectory)
            } catch {
                logger.warning(
                    "cannot record the server's address; the command line cannot reach it",
                    metadata: ["error": "\(error)"])
            }
            readiness.set(true)
            logger.info("chatlog listening", metadata: ["port": "\(port)", "data": "\(dataDirectory)"])
            await onListening(port)
        }
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [
            .init(service: LogService(storage: dependencies.storage, readiness: readiness)),
            .init(
                service: RetentionService(
                    storage: dependencies.storage, interval: server.retentionInterval, logger: logger)
            ),
            .init(
                service: AgentConsumer.runner(
                    storage: dependencies.storage, chat: dependencies.chat,
                    responder: dependencies.responder,
                    retry: RetryPolicy(maxAttempts: server.agent.maxAttempts),
                    status: dependencies.agentStatus, control: dependencies.agentControl,
                    logger: logger)),
            .init(service: application),
            .init(
                service: ChatServer.makeDeliveryService(
                    dependencies, configuration: server, logger: logger)),
        ]
        if let refresher = dependencies.jwksRefresher { services.append(.init(service: refresher)) }
        // Last, so that it hears of a shutdown first: the group stops services in reverse order.
        services.append(.init(service: ShutdownNotice(logger: logger), successTerminationBehavior: .ignore))
        let group = ServiceGroup(
            configuration: .init(
                services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        defer { ServerAddressFile.remove(directory: dataDirectory) }
        try await group.run()
        logger.notice("chatlog stopped")
    }
}

/// Says when a shutdown begins: requests and sockets drain and checkpoints are stored before
/// "chatlog stopped".
private struct ShutdownNotice: Service {
    let logger: Logger

    func run() async throws {
        try await gracefulShutdown()
        logger.notice("chatlog shutting down: draining connections and storing checkpoints")
    }
}
