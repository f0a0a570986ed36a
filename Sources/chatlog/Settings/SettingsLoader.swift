import Chat
import ChatServer
import Configuration
import EventLog
import Foundation
import Logging
import SystemPackage

/// Reads `Settings` from, highest first: flags, `CHATLOG_*` environment variables, the
/// `--config` file, `./Config/chatlog.yaml`, and the built-in defaults.
/// This is the only place that reads the environment or configuration files.
struct SettingsLoader {
    /// The configuration file path given with `--config`.
    var configFile: String?
    /// The data directory given with `--data-dir`.
    var dataDirectory: String?
    /// `--storage` and `--nats`.
    var storage: String?
    var natsServers: String?
    /// `--host` and `--port`, for `serve`.
    var host: String?
    var port: Int?

    /// A value that is present but cannot be used.
    struct InvalidSetting: Error, CustomStringConvertible {
        var key: String
        var reason: String
        var description: String { "configuration key '\(key)': \(reason)" }
    }

    func load() async throws -> Settings {
        var providers: [any ConfigProvider] = [EnvironmentVariablesProvider().prefixKeys(with: ["chatlog"])]
        if let configFile {
            providers.append(try await FileProvider<YAMLSnapshot>(filePath: FilePath(configFile)))
        }
        providers.append(
            try await FileProvider<YAMLSnapshot>(filePath: "Config/chatlog.yaml", allowMissing: true))
        let reader = Reader(config: ConfigReader(providers: providers))

        var settings = Settings()
        settings.dataDirectory = dataDirectory ?? reader.config.string(forKey: "data.dir", default: "./data")
        var log = LogConfiguration.chatlog
        switch reader.config.string(forKey: "log.durability", default: "strict") {
        case "strict": log.durability = .strict
        case "relaxed":
            log.durability = .relaxed(
                syncInterval: .milliseconds(
                    try reader.int("log.relaxedSyncMilliseconds", default: 100, in: 1...60_000)))
        case let other:
            throw InvalidSetting(key: "log.durability", reason: "'\(other)' is not strict or relaxed")
        }
        let megabyte = 1 << 20
        log.initialMapSize =
            try reader.int("log.initialMapSizeMegabytes", default: 256, in: 1...(1 << 30)) * megabyte
        log.maxMapSize =
            try reader.int("log.maxMapSizeMegabytes", default: 1 << 20, in: 1...(1 << 30)) * megabyte
        log.initialMapSize = min(log.initialMapSize, log.maxMapSize)
        log.maxPayloadBytes = try reader.int("log.maxPayloadBytes", default: 1 << 20, in: 1...(64 << 20))
        log.maxBatchSize = try reader.int("log.maxBatchSize", default: 4096, in: 1...100_000)
        log.iteratorLifetime = .seconds(
            try reader.int("log.iteratorLifetimeSeconds", default: 900, in: 1...86_400))
        log.streams = try log.streams.map { try reader.stream($0) }
        settings.server = try server(reader)
        settings.chat.idempotencyKeyLifetime = .seconds(
            try reader.int("chat.idempotencyKeyHours", default: 24, in: 1...(24 * 365)) * 3600)
        log.backend = try backend(reader, duplicateWindow: settings.chat.idempotencyKeyLifetime)
        settings.log = log
        return settings
    }

    private func backend(_ reader: Reader, duplicateWindow: Duration) throws -> LogConfiguration.Backend {
        switch storage ?? reader.config.string(forKey: "log.storage", default: "lmdb") {
        case "lmdb": return .lmdb
        case "jetstream":
            let servers = (natsServers ?? reader.config.string(forKey: "nats.servers", default: ""))
                .split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            guard !servers.isEmpty else {
                throw InvalidSetting(
                    key: "nats.servers", reason: "jetstream storage needs at least one server (--nats)")
            }
            var jetStream = JetStreamSettings(servers: servers)
            jetStream.replicas = try reader.int("nats.replicas", default: jetStream.replicas, in: 1...5)
            jetStream.prefix = reader.config.string(forKey: "nats.prefix", default: jetStream.prefix)
            // The prefix names streams and subjects: no dots, wildcards or spaces.
            let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-")
            guard !jetStream.prefix.isEmpty, jetStream.prefix.allSatisfy(allowed.contains) else {
                throw InvalidSetting(
                    key: "nats.prefix", reason: "'\(jetStream.prefix)' must be letters, digits, _ or -")
            }
            jetStream.timeout = try reader.seconds(
                "nats.timeoutSeconds", default: jetStream.timeout, in: 1...600)
            jetStream.duplicateWindow = duplicateWindow
            // The agent answers each message once for the cluster; delivery serves each node's
            // own connections, so every node runs it.
            jetStream.sharedGroups = [AgentConsumer.group]
            jetStream.claimLifetime = try reader.seconds(
                "nats.claimLifetimeSeconds", default: jetStream.claimLifetime, in: 1...3600)
            return .jetStream(jetStream)
        case let other:
            throw InvalidSetting(key: "log.storage", reason: "'\(other)' is not lmdb or jetstream")
        }
    }

    private func webSocket(_ reader: Reader) throws -> WebSocketConfiguration {
        var webSocket = WebSocketConfiguration()
        webSocket.pingInterval = .seconds(
            try reader.int("webSocket.pingIntervalSeconds", default: 30, in: 1...3600))
        webSocket.closeTimeout = .seconds(
            try reader.int("webSocket.closeTimeoutSeconds", default: 5, in: 1...600))
        webSocket.maxFrameSize = try reader.int(
            "webSocket.maxFrameBytes", default: 65_536, in: 1024...(16 << 20))
        webSocket.delivery.maxQueuedFrames = try reader.int(
            "webSocket.maxQueuedFrames", default: 1000, in: 1...1_000_000)
        webSocket.delivery.maxQueuedBytes = try reader.int(
            "webSocket.maxQueuedBytes", default: 4 << 20, in: 1024...(1 << 30))
        webSocket.delivery.replayPageSize = try reader.int(
            "webSocket.replayPageSize", default: 100, in: 1...1000)
        webSocket.delivery.maxSubscriptions = try reader.int(
            "webSocket.maxSubscriptions", default: 1000, in: 1...100_000)
        return webSocket
    }

    private func connections(_ reader: Reader) throws -> ConnectionConfiguration {
        var connections = ConnectionConfiguration()
        connections.maxConnections = try reader.int(
            "http.maxConnections", default: connections.maxConnections, in: 1...1_000_000)
        connections.maxPerAddress = try reader.int(
            "http.maxConnectionsPerAddress", default: connections.maxPerAddress, in: 1...1_000_000)
        connections.headerTimeout = try reader.seconds(
            "http.headerTimeoutSeconds", default: connections.headerTimeout, in: 1...3600)
        connections.bodyTimeout = try reader.seconds(
            "http.bodyTimeoutSeconds", default: connections.bodyTimeout, in: 1...3600)
        connections.idleTimeout = try reader.seconds(
            "http.idleTimeoutSeconds", default: connections.idleTimeout, in: 1...3600)
        return connections
    }

    private func server(_ reader: Reader) throws -> ServerConfiguration {
        var server = ServerConfiguration()
        server.connections = try connections(reader)
        server.host = host ?? reader.config.string(forKey: "http.host", default: "127.0.0.1")
        server.port = try port ?? reader.int("http.port", default: 8080, in: 0...65_535)
        server.corsAllowedOrigins = try Self.corsOrigins(reader)
        switch reader.config.string(forKey: "http.accessLog", default: "off") {
        case "off": server.accessLog = nil
        case let level:
            guard let level = Logger.Level(rawValue: level), level <= .notice else {
                throw InvalidSetting(
                    key: "http.accessLog", reason: "'\(level)' is not off, debug, info or notice")
            }
            server.accessLog = level
        }
        server.retentionInterval = .seconds(
            try reader.int("log.retentionIntervalSeconds", default: 60, in: 1...86_400))
        if let secret = reader.config.string(forKey: "jwt.secret", isSecret: true), !secret.isEmpty {
            guard secret.utf8.count >= 32 else {
                throw InvalidSetting(key: "jwt.secret", reason: "must have at least 32 bytes")
            }
            server.auth.jwtSecret = secret
        }
        if let file = reader.config.string(forKey: "jwt.publicKeyFile"), !file.isEmpty {
            guard let pem = try? String(contentsOfFile: file, encoding: .utf8) else {
                throw InvalidSetting(key: "jwt.publicKeyFile", reason: "cannot read \(file)")
            }
            server.auth.publicKeyPEM = pem
        }
        server.auth.publicKeyID = reader.config.string(forKey: "jwt.publicKeyId", default: "public")
        server.auth.jwks = try Self.jwks(reader)
        server.auth.clockLeeway = .seconds(
            try reader.int("jwt.clockLeewaySeconds", default: 30, in: 0...3600))
        server.agentReplyTimeout = .seconds(
            try reader.int("agent.replyTimeoutSeconds", default: 10, in: 1...600))
        server.agent.maxAttempts = try reader.int("agent.maxAttempts", default: 5, in: 1...100)
        switch reader.config.string(forKey: "agent.responder", default: "builtin") {
        case "builtin": break
        case "openai":
            guard let baseURL = reader.config.string(forKey: "agent.baseUrl"), !baseURL.isEmpty,
                let model = reader.config.string(forKey: "agent.model"), !model.isEmpty
            else {
                throw InvalidSetting(
                    key: "agent.responder", reason: "openai needs agent.baseUrl and agent.model")
            }
            var openAI = OpenAIResponder.Configuration(
                baseURL: baseURL, model: model,
                apiKey: reader.config.string(forKey: "agent.apiKey", isSecret: true))
            openAI.timeout = .seconds(try reader.int("agent.timeoutSeconds", default: 30, in: 1...600))
            server.agent.openAI = openAI
        case let other:
            throw InvalidSetting(key: "agent.responder", reason: "'\(other)' is not builtin or openai")
        }
        server.webSocket = try webSocket(reader)
        server.rateLimit.enabled = try reader.bool("rateLimit.enabled", default: true)
        server.rateLimit.requestsPerSecond = Double(
            try reader.int("rateLimit.requestsPerSecond", default: 1000, in: 1...10_000_000))
        server.rateLimit.burst = Double(try reader.int("rateLimit.burst", default: 2000, in: 1...10_000_000))
        let limits = server.rateLimit
        server.rateLimit.failedAuthenticationsPerSecond = try reader.rate(
            "rateLimit.failedAuthenticationsPerSecond", default: limits.failedAuthenticationsPerSecond)
        server.rateLimit.failedAuthenticationBurst = try reader.rate(
            "rateLimit.failedAuthenticationBurst", default: limits.failedAuthenticationBurst)
        server.rateLimit.upgradesPerSecond = try reader.rate(
            "rateLimit.upgradesPerSecond", default: limits.upgradesPerSecond)
        server.rateLimit.upgradeBurst = try reader.rate(
            "rateLimit.upgradeBurst", default: limits.upgradeBurst)
        return server
    }

    /// `jwt.jwksFile` or `jwt.jwksUrl` (not both), read again every `jwt.jwksRefreshSeconds`.
    private static func jwks(_ reader: Reader) throws -> JWKSConfiguration? {
        let file = reader.config.string(forKey: "jwt.jwksFile", default: "")
        let url = reader.config.string(forKey: "jwt.jwksUrl", default: "")
        let refresh = Duration.seconds(try reader.int("jwt.jwksRefreshSeconds", default: 300, in: 1...86_400))
        switch (file.isEmpty, url.isEmpty) {
        case (true, true): return nil
        case (false, true): return JWKSConfiguration(source: .file(file), refresh: refresh)
        case (true, false):
            guard url.hasPrefix("https://") || url.hasPrefix("http://") else {
                throw InvalidSetting(key: "jwt.jwksUrl", reason: "'\(url)' is not an http(s) URL")
            }
            return JWKSConfiguration(source: .url(url), refresh: refresh)
        case (false, false):
            throw InvalidSetting(key: "jwt.jwksUrl", reason: "set jwt.jwksFile or jwt.jwksUrl, not both")
        }
    }

    /// `http.corsAllowedOrigins`: `*`, or origins as browsers send them (scheme, host, port; no
    /// path), comma-separated.
    private static func corsOrigins(_ reader: Reader) throws -> [String] {
        let text = reader.config.string(forKey: "http.corsAllowedOrigins", default: "")
        return try text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter {
            !$0.isEmpty
        }.map { origin in
            guard origin == "*" || Self.isOrigin(origin) else {
                throw InvalidSetting(
                    key: "http.corsAllowedOrigins",
                    reason: "'\(origin)' is not an origin such as https://app.example.com (no path), nor *")
            }
            return origin
        }
    }

    private static func isOrigin(_ text: String) -> Bool {
        guard let url = URL(string: text), let scheme = url.scheme, ["http", "https"].contains(scheme),
            url.host != nil, url.path.isEmpty, url.query == nil, url.fragment == nil
        else { return false }
        return true
    }

    /// Typed reads that refuse a present but unusable value instead of silently using the default.
    private struct Reader {
        let config: ConfigReader

        func int(_ key: String, default defaultValue: Int, in range: ClosedRange<Int>) throws -> Int {
            guard let value = config.int(forKey: ConfigKey(key)) else {
                if let text = config.string(forKey: ConfigKey(key)) {
                    throw InvalidSetting(key: key, reason: "'\(text)' is not a whole number")
                }
                return defaultValue
            }
            guard range.contains(value) else {
                throw InvalidSetting(
                    key: key, reason: "\(value) is outside \(range.lowerBound)...\(range.upperBound)")
            }
            return value
        }

        /// A whole number of seconds; the default is the configuration's own.
        func seconds(_ key: String, default defaultValue: Duration, in range: ClosedRange<Int>) throws
            -> Duration
        {
            .seconds(try int(key, default: Int(defaultValue.components.seconds), in: range))
        }

        /// A whole-number rate or burst of at least 1; the default is the configuration's own.
        func rate(_ key: String, default defaultValue: Double) throws -> Double {
            Double(try int(key, default: Int(defaultValue), in: 1...1_000_000))
        }

        func bool(_ key: String, default defaultValue: Bool) throws -> Bool {
            guard let value = config.bool(forKey: ConfigKey(key)) else {
                if let text = config.string(forKey: ConfigKey(key)) {
                    throw InvalidSetting(key: key, reason: "'\(text)' is not true or false")
                }
                return defaultValue
            }
            return value
        }

        func stream(_ defaults: StreamConfiguration) throws -> StreamConfiguration {
            let prefix = "streams.\(defaults.name)."
            var stream = defaults
            stream.shardCount = try int(prefix + "shards", default: defaults.shardCount, in: 1...1024)
            let defaultHours = defaults.retention.maxAge.map { Int($0.components.seconds / 3600) } ?? 0
            let hours = try int(prefix + "retentionHours", default: defaultHours, in: 0...(1 << 30))
            let megabytes = try int(prefix + "retentionMegabytesPerShard", default: 0, in: 0...(1 << 30))
            stream.retention = Retention(
                maxAge: hours == 0 ? nil : .seconds(hours * 3600),
                maxBytesPerShard: megabytes == 0 ? nil : megabytes << 20,
                trimUnprocessed: try bool(prefix + "trimUnprocessed", default: false))
            return stream
        }
    }
}
