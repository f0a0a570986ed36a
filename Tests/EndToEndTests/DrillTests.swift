import ChatServer
import ChatlogTestSupport
import EventLog
import Foundation
import LogBackends
import Testing

/// The recovery drills and maintenance commands, run as users run them.
@Suite(.timeLimit(.minutes(2))) struct DrillTests {
    private func json(_ result: CommandResult) throws -> [String: Any] {
        let line = try #require(result.output.split(separator: "\n").last.map(String.init), "\(result.error)")
        return try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
    }

    /// Runs a crash drill of three kills with `arguments` and checks its report is clean.
    private func crashDrill(_ arguments: [String] = []) async throws {
        let result = try await runChatlog(
            ["drill", "crash", "--kills", "3", "--writers", "4", "--json"] + arguments)
        #expect(result.status == 0, "\(result.output)\n\(result.error)")
        let report = try json(result)
        #expect(report["ok"] as? Bool == true)
        #expect((report["violations"] as? [Any])?.isEmpty == true)
        #expect((report["acknowledgedMessagesChecked"] as? Int ?? 0) > 0)
        #expect((report["readyMilliseconds"] as? [Any])?.count == 3)
        let readers = try #require(report["readers"] as? Int)
        #expect(readers == 2)
        #expect((report["readerFrames"] as? Int) == readers * (report["recordsReadBack"] as? Int ?? 0))
    }

    @Test func aShortCrashDrillFindsNoViolations() async throws {
        try await crashDrill()
    }

    @Test func aCrashDrillOnJetStreamKillsTheNodeAndLosesNothing() async throws {
        let servers = try await NATSCluster.shared().urls.joined(separator: ",")
        try await crashDrill(["--storage", "jetstream", "--nats", servers])
    }

    @Test func aReplayDrillConvergesToTheSameState() async throws {
        let result = try await runChatlog(["drill", "replay", "--messages", "40", "--json"])
        #expect(result.status == 0, "\(result.output)\n\(result.error)")
        #expect(try json(result)["ok"] as? Bool == true)
    }

    @Test func backupBesideARunningServerRestoresAndProjectionsRebuildIdentically() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let backup = try TemporaryDirectory()
        defer { backup.remove() }
        let restored = try TemporaryDirectory()
        defer { restored.remove() }
        let (server, base) = try await startServer(in: directory)
        let channel = try await createChannel(
            "kept", at: base, token: try await developmentToken("alice", in: directory))

        let backedUp = try await runChatlog([
            "backup", "--data-dir", directory.path, backup.path + "/b", "--json",
        ])
        #expect(backedUp.status == 0, "\(backedUp.error)")
        let backupReport = try json(backedUp)
        // The channel's creation is the one record.
        #expect(backupReport["shardHeadSum"] as? Int == 1)
        #expect((backupReport["bytes"] as? Int ?? 0) > 0)
        #expect(backupReport["files"] as? [String] == ["jwt-secret"])
        // The copy runs on a thread of its own: its failure still reaches the command's exit.
        let again = try await runChatlog(["backup", "--data-dir", directory.path, backup.path + "/b"])
        #expect(again.status != 0)
        #expect(again.error.contains("not empty"), "\(again.error)")
        // The rebuild needs the writer: refused while the server holds the log.
        let refused = try await runChatlog(["projections", "rebuild", "--data-dir", directory.path])
        #expect(refused.status != 0)
        server.kill(SIGTERM)
        _ = await server.readToEnd()
        #expect(await server.waitForExit() == 0)

        let rebuilt = try await runChatlog(["projections", "rebuild", "--data-dir", directory.path, "--json"])
        #expect(rebuilt.status == 0, "\(rebuilt.error)")
        #expect(try json(rebuilt)["identical"] as? Bool == true)

        let target = restored.path + "/data"
        let restore = try await runChatlog(["restore", "--data-dir", target, backup.path + "/b", "--json"])
        #expect(restore.status == 0, "\(restore.error)")
        #expect(try json(restore)["recordsVerified"] as? Int == 1)
        let overwrite = try await runChatlog(["restore", "--data-dir", target, backup.path + "/b"])
        #expect(overwrite.status != 0)
        #expect(overwrite.error.contains("already holds a log"), "\(overwrite.error)")
        let storage = try LogBackends.open(
            directory: target, configuration: LogConfiguration(streams: ChatServer.streams), readOnly: true)
        defer { storage.close() }
        #expect(try await storage.channelHead(stream: .chatEvents, channelID: channel) == 1)
        #expect(FileManager.default.fileExists(atPath: target + "/jwt-secret"))
    }
}
