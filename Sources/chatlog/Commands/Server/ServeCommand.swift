import ArgumentParser
import ChatServer
import Logging
import Metrics
import Prometheus

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the chat server on its data directory (created if missing).",
        discussion: "Stops gracefully on SIGTERM or SIGINT: in-flight requests finish, then the log closes.")

    @OptionGroup var global: GlobalOptions
    @Option(help: "The address to listen on (default 127.0.0.1).") var host: String?
    @Option(help: "The port to listen on (default 8080; 0 picks a free one).") var port: Int?
    @Flag(
        help:
            "Development mode: the web console hands out a token for any user name. Never where others can reach it."
    )
    var dev = false

    func run() async throws {
        LoggingSystem.bootstrap(ServerLogHandler.init)
        let settings = try await global.settings(host: host, port: port)
        var server = settings.server
        server.development = dev
        var logger = Logger(label: "chatlog")
        logger.logLevel = .info
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        let runner = ChatServerRunner(
            dataDirectory: settings.dataDirectory, log: settings.log, chat: settings.chat,
            server: server,
            registry: registry, logger: logger)
        try await runner.run { port in
            Console.out(
                "chatlog listening on http://\(settings.server.host):\(port) (data: \(settings.dataDirectory))"
            )
            Console.out("web console: http://\(settings.server.host):\(port)/console")
            if dev {
                Console.error(
                    "DEVELOPMENT MODE: the console gives anyone a token for any user name (serve --dev)")
            }
        }
    }
}
