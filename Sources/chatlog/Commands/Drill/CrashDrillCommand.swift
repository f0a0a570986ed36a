import ArgumentParser
import AsyncHTTPClient
import Chat
import ChatServer
import EventLog
import EventLogJetStream
import Foundation
import LogBackends
import NIOCore
import Synchronization

/// `chatlog drill crash`: REST writers and resuming WebSocket readers against a `chatlog serve`
/// child that is killed with SIGKILL at random moments and restarted; then the log is checked.
struct CrashDrillCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "crash",
        abstract:
            "Kill the server with SIGKILL under load, again and again, then prove nothing was lost or duplicated."
    )

    @Option(help: "The data directory to drill on (default: a new temporary one, removed after).")
    var dataDir: String?
    @Option(help: "How many times to kill the server.") var kills: Int = 10
    @Option(help: "Concurrent REST writers.") var writers: Int = 8
    @Option(help: "WebSocket readers, each subscribed to every channel.") var readers: Int = 2
    @Option(help: "Channels written to; every other one has the agent.") var channels: Int = 6
    @Option(help: "Most milliseconds of load before each kill (the moment is random).")
    var maxLoadMilliseconds: Int = 600
    @Option(
        help: """
            lmdb, or jetstream: the log on the cluster --nats names, in streams of a prefix of the \
            drill's own (removed after); the node is killed, the cluster stays.
            """)
    var storage = "lmdb"
    @Option(help: "With --storage jetstream: the cluster's servers, comma-separated.")
    var nats = "nats://127.0.0.1:4222,nats://127.0.0.1:4223,nats://127.0.0.1:4224"
    @Flag(help: "Print the report as JSON on standard output.") var json = false

    func validate() throws {
        guard ["lmdb", "jetstream"].contains(storage) else {
            throw ValidationError("--storage is lmdb or jetstream, not '\(storage)'")
        }
    }

    /// The log the drill runs on, and what the server is told of it.
    struct Backend {
        var configuration = LogConfiguration.chatlog
        var environment: [String: String] = [:]
    }

    /// On JetStream: streams of a new prefix on the cluster, made as `chatlog cluster apply` would.
    private func backend() throws -> Backend {
        guard storage == "jetstream" else { return Backend() }
        var settings = JetStreamSettings(servers: nats.split(separator: ",").map(String.init))
        settings.prefix = "drill" + UUID().uuidString.prefix(8).lowercased()
        // As the server configures itself: the nodes share the agent group.
        settings.sharedGroups = [AgentConsumer.group]
        var backend = Backend()
        backend.configuration.backend = .jetStream(settings)
        backend.environment = [
            "CHATLOG_LOG_STORAGE": "jetstream", "CHATLOG_NATS_SERVERS": nats,
            "CHATLOG_NATS_PREFIX": settings.prefix,
            // A killed node's claim on the agent group passes to its successor after this.
            "CHATLOG_NATS_CLAIM_LIFETIME_SECONDS": "5",
        ]
        _ = try JetStreamStorage.apply(configuration: backend.configuration, settings: settings)
        return backend
    }

    func run() async throws {
        let directory = dataDir ?? NSTemporaryDirectory() + "chatlog-drill-" + UUID().uuidString.lowercased()
        defer { if dataDir == nil { try? FileManager.default.removeItem(atPath: directory) } }
        let secret = "drill-secret-" + UUID().uuidString
        let backend = try backend()
        defer {
            if case .jetStream(let settings) = backend.configuration.backend {
                _ = try? JetStreamStorage.removeStreams(
                    configuration: backend.configuration, settings: settings)
            }
        }
        let http = HTTPClient(eventLoopGroupProvider: .singleton)
        let report: CrashDrillReport
        do {
            report = try await drill(directory: directory, backend: backend, secret: secret, http: http)
            try await http.shutdown()
        } catch {
            try? await http.shutdown()
            throw error
        }
        report.print(json: json)
        if !report.findings.violations.isEmpty { throw ExitCode(1) }
    }

    private func drill(directory: String, backend: Backend, secret: String, http: HTTPClient) async throws
        -> CrashDrillReport
    {
        let token = try await TokenAuthority(secret: secret).mint(user: "drill", ttl: .seconds(86_400))
        var server = try BenchServer(directory: directory, secret: secret, environment: backend.environment)
        var report = CrashDrillReport(kills: kills)
        var api = BenchAPI(http: http, port: server.port, token: token)
        var channelIDs: [String] = []
        for index in 0..<channels {
            let (status, body) = try await api.call(
                .POST, "/v1/channels", body: "{\"name\":\"drill \(index)\",\"agent\":\(index % 2 == 0)}")
            guard status == 201, let id = (body["channel"] as? [String: Any])?["id"] as? String else {
                throw BenchFailure("could not create a channel: \(status) \(body)")
            }
            channelIDs.append(id)
        }
        let writersState = DrillWriters(channels: channelIDs)
        let readerStates = (0..<max(1, readers)).map { _ in DrillReader(channels: channelIDs) }
        var acknowledgedBefore = 0
        for round in 0...kills {
            var sockets: [any NIOCore.Channel] = []
            for reader in readerStates {
                sockets.append(try await reader.connect(port: server.port, token: token))
            }
            let stop = RoundFlag()
            let roundAPI = api
            let writerCount = writers
            let load = Task {
                await withTaskGroup(of: Void.self) { group in
                    for writer in 0..<writerCount {
                        group.addTask { await writersState.run(writer: writer, api: roundAPI) { stop.isSet } }
                    }
                }
            }
            try await Task.sleep(for: .milliseconds(Int.random(in: 50...max(50, maxLoadMilliseconds))))
            if round == kills {
                stop.set()
                await load.value
                break
            }
            server.kill()
            await load.value
            for socket in sockets { try? await socket.close() }
            let acknowledged = writersState.acknowledged.count
            Console.progress(
                "kill \(round + 1) of \(kills): \(acknowledged - acknowledgedBefore) posts acknowledged since the "
                    + "last restart, \(acknowledged) in all")
            acknowledgedBefore = acknowledged
            server = try BenchServer(directory: directory, secret: secret, environment: backend.environment)
            api = BenchAPI(http: http, port: server.port, token: token)
            report.readyTimes.append(try await readyTime(api, since: server))
        }
        Console.endProgress()
        // Any post still unanswered is sent again with its key until it is answered.
        for _ in 0..<20 where writersState.unansweredCount > 0 {
            await retryUnanswered(writersState, api: api)
        }
        try await settle(
            channelIDs, readers: readerStates, directory: directory, configuration: backend.configuration)
        server.stop()
        report.findings.violations += writersState.violations + readerStates.flatMap(\.violations)
        try await check(
            directory: directory, configuration: backend.configuration, channels: channelIDs,
            writers: writersState,
            readers: readerStates, into: &report)
        return report
    }

    /// Sends each writer's unanswered post once more.
    private func retryUnanswered(_ writers: DrillWriters, api: BenchAPI) async {
        let writerCount = self.writers
        await withTaskGroup(of: Void.self) { group in
            for writer in 0..<writerCount {
                group.addTask { await writers.retryUnanswered(writer: writer, api: api) }
            }
        }
    }

    /// The time from spawning the server to `/v1/ready` answering 200.
    private func readyTime(_ api: BenchAPI, since server: BenchServer) async throws -> Duration {
        let started = ContinuousClock.now
        while ContinuousClock.now - started < .seconds(30) {
            if let (status, _) = try? await api.call(.GET, "/v1/ready"), status == 200 {
                return server.startup + (ContinuousClock.now - started)
            }
            try await Task.sleep(for: .milliseconds(2))
        }
        throw BenchFailure("the server was not ready 30 s after a restart")
    }

    /// Waits (up to a minute) for the agent to answer everything and the reader to catch up.
    private func settle(
        _ channels: [String], readers: [DrillReader], directory: String, configuration: LogConfiguration
    ) async throws {
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline {
            let storage = try LogBackends.open(
                directory: directory, configuration: configuration, readOnly: true)
            var settled = true
            for (index, channel) in channels.enumerated() where settled {
                let records = try await storage.channelRecords(
                    stream: .chatEvents, channelID: channel, after: 0, limit: 1_000_000)
                let head = records.last?.channelSeq ?? 0
                settled = readers.allSatisfy { $0.last(channel) == Int(head) }
                // Even channels have the agent: every user message needs its reply.
                guard settled, index % 2 == 0 else { continue }
                let messages = records.filter { $0.type == ChatRecordType.messageCreated }
                settled =
                    messages.filter { $0.actor == "agent" }.count
                    == messages.filter { $0.actor != "agent" }.count
            }
            storage.close()
            if settled { return }
            try await Task.sleep(for: .milliseconds(50))
        }
    }
}

/// A flag set once, read from many tasks.
final class RoundFlag: Sendable {
    private let value = Atomic<Bool>(false)
    var isSet: Bool { value.load(ordering: .acquiring) }
    func set() { value.store(true, ordering: .releasing) }
}
