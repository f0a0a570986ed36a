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
}
