import ArgumentParser
import AsyncHTTPClient
import ChatServer
import EventLog
import Foundation
import LogBackends

/// `chatlog drill replay`: on a running server, resets the consumer groups to the start of the
/// log, waits for them to catch up, and proves the state converged to what it was.
struct ReplayDrillCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Replay the consumer groups from the start on a running server and prove nothing changes.")

    @Option(help: "The data directory to drill on (default: a new temporary one, removed after).")
    var dataDir: String?
    @Option(help: "Messages to post (half of them in an agent channel) before the replay.") var messages:
        Int = 200
    @Flag(help: "Print the report as JSON on standard output.") var json = false

    func run() async throws {
        let directory = dataDir ?? NSTemporaryDirectory() + "chatlog-drill-" + UUID().uuidString.lowercased()
        defer { if dataDir == nil { try? FileManager.default.removeItem(atPath: directory) } }
        let http = HTTPClient(eventLoopGroupProvider: .singleton)
        let findings: DrillFindings
        do {
            findings = try await drill(directory: directory, http: http)
            try await http.shutdown()
        } catch {
            try? await http.shutdown()
            throw error
        }
        if json {
            Console.out(
                JSONOutput.object([
                    ("ok", .bool(findings.violations.isEmpty)),
                    ("violations", .array(findings.violations.map { .string($0) })),
                ]).text)
        } else {
            for violation in findings.violations { Console.out("VIOLATION \(violation)") }
            Console.out(
                findings.violations.isEmpty
                    ? "OK: after replaying every consumer group from the start, no duplicate replies and identical projections"
                    : "FAILED: \(findings.violations.count) violations")
        }
        if !findings.violations.isEmpty { throw ExitCode(1) }
    }

    private func drill(directory: String, http: HTTPClient) async throws -> DrillFindings {
        let secret = "drill-secret-" + UUID().uuidString
        let server = try BenchServer(directory: directory, secret: secret)
        defer { server.stop() }
        let token = try await TokenAuthority(secret: secret).mint(user: "drill", ttl: .seconds(86_400))
        let api = BenchAPI(http: http, port: server.port, token: token)
        let (_, secretKey) = try APIKeyStore(directory: directory).create(name: "drill", scopes: [.admin])
        var channels: [String] = []
        for agent in [true, false] {
            let (_, body) = try await api.call(
                .POST, "/v1/channels", body: "{\"name\":\"replay\",\"agent\":\(agent)}")
            channels.append(
                try (body["channel"] as? [String: Any])?["id"] as? String
                    ?? { throw BenchFailure("no channel") }())
        }
        for index in 0..<messages {
            _ = try await api.call(
                .POST, "/v1/channels/\(channels[index % 2])/messages", body: "{\"text\":\"r\(index)\"}")
        }
        try await caughtUp(api, key: secretKey)
        let before = try digests(directory)
        for group in ["agent", "delivery"] {
            let (status, body) = try await api.call(
                .POST, "/v1/admin/consumers/\(group)/reset", body: "{\"trimHorizon\":true}",
                headers: [("X-API-Key", secretKey)])
            guard status == 200 else { throw BenchFailure("reset of \(group) answered \(status): \(body)") }
        }
        try await caughtUp(api, key: secretKey)
        var findings = DrillFindings()
        let after = try digests(directory)
        for name in Set(before.keys).union(after.keys).sorted() {
            findings.check(before[name] == after[name], "projection table \(name) changed across the replay")
        }
        let storage = try LogBackends.open(directory: directory, configuration: .chatlog, readOnly: true)
        defer { storage.close() }
        let records = try await storage.channelRecords(
            stream: .chatEvents, channelID: channels[0], after: 0, limit: 1_000_000)
        var replies: [RecordID: Int] = [:]
        for record in records where record.actor == "agent" {
            replies[record.causationID ?? record.id, default: 0] += 1
        }
        for record in records where record.type == "message.created" && record.actor != "agent" {
            findings.check(
                replies[record.id] == 1, "message \(record.id) has \(replies[record.id] ?? 0) replies")
        }
        return findings
    }

    private func digests(_ directory: String) throws -> [String: TableDigest] {
        let storage = try LogBackends.open(
            directory: directory, configuration: .chatlog, readOnly: true, projections: ChatServer.projections
        )
        defer { storage.close() }
        return try storage.projectionDigests()
    }

    /// Waits until every group's lag is zero on every shard.
    private func caughtUp(_ api: BenchAPI, key: String) async throws {
        let deadline = ContinuousClock.now + .seconds(120)
        while ContinuousClock.now < deadline {
            let (_, body) = try await api.call(.GET, "/v1/admin/consumers", headers: [("X-API-Key", key)])
            let groups = body["groups"] as? [[String: Any]] ?? []
            let lagging = groups.contains { group in
                (group["shards"] as? [[String: Any]] ?? []).contains { ($0["lag"] as? Int ?? 1) > 0 }
            }
            if !groups.isEmpty, !lagging { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw BenchFailure("the consumer groups did not catch up within two minutes")
    }
}
