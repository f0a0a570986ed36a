import ChatlogTestSupport
import Foundation
import Testing

/// Settings come from the --config file, then CHATLOG_* variables (which win), with clear errors.
@Suite(.timeLimit(.minutes(2))) struct ConfigurationTests {
    private func shards(_ directory: TemporaryDirectory, environment: [String: String]) async throws -> Int? {
        let config = directory.path + "/chatlog.yaml"
        try "streams:\n  chat_events:\n    shards: 2\n".write(
            toFile: config, atomically: true, encoding: .utf8)
        let data = directory.path + "/data-\(environment.count)"
        #expect(
            try await runChatlog(
                [
                    "debug", "append-load", "--data-dir", data, "--config", config, "--count", "1",
                    "--appenders", "1",
                ],
                environment: environment
            ).status == 0)
        let result = try await runChatlog([
            "log", "streams", "--json", "--data-dir", data, "--config", config,
        ])
        let streams = try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [String: Any]
        return (streams?["streams"] as? [[String: Any]])?.first { $0["name"] as? String == "chat_events" }?[
            "shards"] as? Int
    }

    @Test func theEnvironmentOverridesTheConfigFile() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        #expect(try await shards(directory, environment: [:]) == 2)
        #expect(try await shards(directory, environment: ["CHATLOG_STREAMS_CHAT_EVENTS_SHARDS": "3"]) == 3)
    }

    @Test func anUnusableValueIsAnErrorNamingItsKey() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let origins = try await runChatlog(
            ["serve", "--data-dir", directory.path, "--port", "0"],
            environment: ["CHATLOG_HTTP_CORS_ALLOWED_ORIGINS": "https://app.example.com/with/a/path"])
        #expect(origins.status != 0)
        #expect(origins.error.contains("http.corsAllowedOrigins"))
        for (environment, key) in [
            (["CHATLOG_HTTP_ACCESS_LOG": "loud"], "http.accessLog"),
            (["CHATLOG_JWT_JWKS_URL": "ftp://idp.example.com/jwks.json"], "jwt.jwksUrl"),
            (
                [
                    "CHATLOG_JWT_JWKS_URL": "https://idp.example.com/jwks.json",
                    "CHATLOG_JWT_JWKS_FILE": "/etc/jwks.json",
                ],
                "jwt.jwksUrl"
            ),
        ] {
            let refused = try await runChatlog(
                ["serve", "--data-dir", directory.path, "--port", "0"], environment: environment)
            #expect(refused.status != 0, "\(environment)")
            #expect(refused.error.contains(key), "\(refused.error)")
        }
        let durability = try await runChatlog(
            ["log", "streams", "--data-dir", directory.path],
            environment: ["CHATLOG_LOG_DURABILITY": "sometimes"])
        #expect(durability.status != 0)
        #expect(durability.error.contains("log.durability"))
        let shards = try await runChatlog(
            ["log", "streams", "--data-dir", directory.path],
            environment: ["CHATLOG_STREAMS_TRIGGERS_SHARDS": "many"])
        #expect(shards.status != 0)
        #expect(shards.error.contains("streams.triggers.shards"))
        let secret = try await runChatlog(
            ["token", "--user", "a", "--data-dir", directory.path],
            environment: ["CHATLOG_JWT_SECRET": "short"])
        #expect(secret.status != 0)
        #expect(secret.error.contains("jwt.secret"))
        for (variable, key) in [
            ("CHATLOG_HTTP_HEADER_TIMEOUT_SECONDS", "http.headerTimeoutSeconds"),
            ("CHATLOG_RATE_LIMIT_UPGRADE_BURST", "rateLimit.upgradeBurst"),
        ] {
            let refused = try await runChatlog(
                ["log", "streams", "--data-dir", directory.path], environment: [variable: "0"])
            #expect(refused.status != 0, "\(variable)")
            #expect(refused.error.contains(key), "\(refused.error)")
        }
    }

    /// Config/chatlog.yaml, the loader and docs/operations.md's table name the same keys.
    @Test func theShippedConfigTheLoaderAndTheOperationsGuideNameTheSameKeys() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        func read(_ path: String) throws -> String {
            try String(contentsOf: root.appendingPathComponent(path), encoding: .utf8)
        }
        // Leaf keys of the YAML file (two-space indentation, one key per line), with each
        // stream's name written NAME as the guide writes it.
        var shipped: Set<String> = []
        var path: [String] = []
        for line in try read("Config/chatlog.yaml").split(separator: "\n") {
            let text = line.trimmingCharacters(in: .whitespaces)
            guard !text.isEmpty, !text.hasPrefix("#"), let colon = text.firstIndex(of: ":") else { continue }
            let depth = (line.prefix { $0 == " " }.count) / 2
            path = Array(path.prefix(depth)) + [String(text[..<colon])]
            if !text[text.index(after: colon)...].trimmingCharacters(in: .whitespaces).isEmpty {
                shipped.insert(
                    path.enumerated().map { $0 == 1 && path[0] == "streams" ? "NAME" : $1 }.joined(
                        separator: "."))
            }
        }
        let guide = try read("docs/operations.md")
        let table = guide[guide.range(of: "| key | default | meaning |")!.lowerBound...]
            .prefix { $0 != "#" }
        let documented = Set(
            table.split(separator: "\n").filter { $0.hasPrefix("| `") }.flatMap { row in
                row.split(separator: "|")[0].matches(of: /`([a-zA-Z.]+)`/).map { String($0.output.1) }
            })
        let loader = try read("Sources/chatlog/Settings/SettingsLoader.swift")
        let loaded = Set(
            loader.matches(of: /"((?:data|log|nats|http|jwt|rateLimit|chat|agent|webSocket)\.[a-zA-Z]+)"/).map
            {
                String($0.output.1)
            })
        #expect(shipped.count > 40)
        #expect(shipped.subtracting(documented).isEmpty, "in Config/chatlog.yaml, not in docs/operations.md")
        #expect(documented.subtracting(shipped).isEmpty, "in docs/operations.md, not in Config/chatlog.yaml")
        #expect(loaded.subtracting(shipped).isEmpty, "read by the loader, not in Config/chatlog.yaml")
        #expect(
            shipped.filter { !$0.hasPrefix("streams.") }.subtracting(loaded).isEmpty,
            "in Config/chatlog.yaml, never read")
    }
}
