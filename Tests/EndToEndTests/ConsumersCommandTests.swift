import Chat
import ChatServer
import ChatlogTestSupport
import EventLog
import Foundation
import LogBackends
import Testing

@Suite(.timeLimit(.minutes(2))) struct ConsumersCommandTests {
    private func json(_ text: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    }

    @Test func resetListAndDescribeAGroup() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let load = try await runChatlog([
            "debug", "append-load", "--data-dir", directory.path, "--appenders", "4", "--count", "10",
        ])
        #expect(load.status == 0)
        let data = ["--data-dir", directory.path]
        let reset = try await runChatlog(
            ["consumers", "reset", "replayer", "--stream", "chat_events", "--to-seq", "0"] + data)
        #expect(reset.status == 0, "\(reset.error)")
        let listed = try json(try await runChatlog(["consumers", "list", "--json"] + data).output)
        let group = try #require((listed["groups"] as? [[String: Any]])?.first)
        #expect(group["name"] as? String == "replayer")
        let shards = try #require(group["shards"] as? [[String: Any]])
        #expect(shards.count == 4)
        #expect(shards.reduce(0) { $0 + ($1["lag"] as? Int ?? 0) } == 40)
        #expect(shards.allSatisfy { ($0["checkpoint"] as? Int) == 0 && $0["head"] is Int })

        let dryRun = try await runChatlog(["consumers", "reset", "replayer", "--latest", "--dry-run"] + data)
        #expect(dryRun.output.contains("dry run"))
        let dryRunJSON = try json(
            try await runChatlog(
                ["consumers", "reset", "replayer", "--latest", "--dry-run", "--json"] + data
            ).output)
        #expect(dryRunJSON["dryRun"] as? Bool == true)
        #expect(dryRunJSON["byServer"] as? Bool == false)
        let moves = try #require(dryRunJSON["shards"] as? [[String: Any]])
        #expect(moves.count == 4)
        #expect(moves.reduce(0) { $0 + ($1["toReprocess"] as? Int ?? 0) } == 0)
        // From the start to the head of each shard: the 40 records skipped, had it not been a dry run.
        #expect(moves.allSatisfy { $0["from"] as? Int == 0 })
        #expect(moves.reduce(0) { $0 + ($1["to"] as? Int ?? 0) } == 40)
        let stillBehind = try json(
            try await runChatlog(["consumers", "describe", "replayer", "--json"] + data).output)
        #expect(
            (stillBehind["shards"] as? [[String: Any]])?.allSatisfy {
                $0["oldestUnprocessedAgeSeconds"] is Double
            } == true)

        #expect(try await runChatlog(["consumers", "reset", "replayer", "--latest"] + data).status == 0)
        let caughtUp = try json(
            try await runChatlog(["consumers", "describe", "replayer", "--json"] + data).output)
        #expect((caughtUp["shards"] as? [[String: Any]])?.allSatisfy { ($0["lag"] as? Int) == 0 } == true)
        #expect(caughtUp["deadLetters"] as? Int == 0)

        let unknown = try await runChatlog(["consumers", "describe", "nobody"] + data)
        #expect(unknown.status != 0)
        #expect(unknown.error.contains("no consumer group named 'nobody'"))
        // A mistyped data directory is an error for the commands that write, never a new log.
        let mistyped = directory.path + "/typo"
        for command in [["consumers", "reset", "replayer", "--latest"], ["consumers", "dlq", "redrive"]] {
            let refused = try await runChatlog(command + ["--data-dir", mistyped])
            #expect(refused.status == 1)
            #expect(refused.error.contains("no chatlog data directory"), "\(refused.error)")
        }
        #expect(!FileManager.default.fileExists(atPath: mistyped))
        let twoChoices = try await runChatlog(
            ["consumers", "reset", "replayer", "--latest", "--trim-horizon"] + data)
        #expect(twoChoices.status != 0)
        #expect(
            try json(try await runChatlog(["consumers", "dlq", "list", "--json"] + data).output)[
                "deadLetters"] as? [Any] != nil)
    }

    @Test func resetAndRedriveBesideARunningServerGoThroughItsAdminAPI() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        var (server, base) = try await startServer(in: directory)
        let data = ["--data-dir", directory.path]
        _ = try await createChannel(
            "one record", at: base, token: try await developmentToken("alice", in: directory))
        // A running server moves only groups it runs or knows: a new group's checkpoints would
        // pin retention, so a mistyped name is refused rather than saved.
        let mistyped = try await runChatlog(["consumers", "reset", "replayr", "--latest"] + data)
        #expect(mistyped.status == 1)
        #expect(mistyped.error.contains("no consumer group named 'replayr'"), "\(mistyped.error)")
        // Offline, a group is created on purpose by naming its stream.
        server.kill(SIGTERM)
        _ = await server.readToEnd()
        _ = await server.waitForExit()
        let created = try await runChatlog(
            ["consumers", "reset", "replayer", "--trim-horizon", "--stream", "chat_events"] + data)
        #expect(created.status == 0, "\(created.error)")
        (server, base) = try await startServer(in: directory)

        // The server holds the log for writing: the command moves the checkpoints through it.
        let latest = try await runChatlog(["consumers", "reset", "replayer", "--latest"] + data)
        #expect(latest.status == 0, "\(latest.error)")
        #expect(latest.output.contains("reset by the running server"), "\(latest.output)")
        let scripted = try json(
            try await runChatlog(["consumers", "reset", "replayer", "--latest", "--json"] + data).output)
        #expect(scripted["byServer"] as? Bool == true)
        #expect(scripted["dryRun"] as? Bool == false)
        let scriptedShards = try #require(scripted["shards"] as? [[String: Any]])
        #expect(scriptedShards.count == 4)
        #expect(
            scriptedShards.allSatisfy {
                $0["from"] as? Int == $0["to"] as? Int && $0["toReprocess"] as? Int == 0
            })
        func replayerShards() async throws -> [[String: Any]] {
            let listed = try json(try await runChatlog(["consumers", "list", "--json"] + data).output)
            let group = (listed["groups"] as? [[String: Any]])?.first { $0["name"] as? String == "replayer" }
            return try #require(group?["shards"] as? [[String: Any]])
        }
        let caughtUp = try await replayerShards()
        #expect(caughtUp.count == 4)
        #expect(caughtUp.allSatisfy { $0["checkpoint"] as? Int == $0["head"] as? Int })
        let written = try #require(caughtUp.first { ($0["head"] as? Int ?? 0) > 0 }?["shard"] as? Int)
        let back = try await runChatlog(
            ["consumers", "reset", "replayer", "--to-seq", "0", "--shard", "\(written)"] + data)
        #expect(back.status == 0, "\(back.error)")
        #expect(
            try await replayerShards().first { $0["shard"] as? Int == written }?["checkpoint"] as? Int == 0)
        let redrive = try await runChatlog(["consumers", "dlq", "redrive"] + data)
        #expect(redrive.status == 0, "\(redrive.error)")
        #expect(redrive.output.contains("no dead letters"))
        let redriveJSON = try json(
            try await runChatlog(["consumers", "dlq", "redrive", "--json"] + data).output)
        #expect(redriveJSON["byServer"] as? Bool == true)
        #expect((redriveJSON["redriven"] as? [Any])?.isEmpty == true)
        #expect((redriveJSON["failed"] as? [Any])?.isEmpty == true)
        let otherStream = try await runChatlog(
            ["consumers", "reset", "replayer", "--latest", "--stream", "triggers"] + data)
        #expect(otherStream.status == 1)
        #expect(otherStream.error.contains("chat_events only"), "\(otherStream.error)")
        // Beside the server, list and describe also say whether each group runs on each shard.
        let listed = try json(try await runChatlog(["consumers", "list", "--json"] + data).output)
        #expect(listed["serverAnswered"] as? Bool == true)
        let runningOf = Dictionary(
            (listed["groups"] as? [[String: Any]] ?? []).map { group in
                (
                    group["name"] as? String ?? "",
                    (group["shards"] as? [[String: Any]] ?? []).map { $0["running"] as? Bool == true }
                )
            }, uniquingKeysWith: { first, _ in first })
        #expect(runningOf["agent"] == [true, true, true, true])
        #expect(runningOf["delivery"] == [true, true, true, true])
        #expect(runningOf["replayer"] == [false, false, false, false])
        let table = try await runChatlog(["consumers", "list"] + data).output
        #expect(table.contains("RUNNING"))
        #expect(table.split(separator: "\n").contains { $0.hasPrefix("agent") && $0.hasSuffix("yes") })
        let described = try json(
            try await runChatlog(["consumers", "describe", "agent", "--json"] + data).output)
        #expect(described["serverAnswered"] as? Bool == true)
        let agentShards = try #require(described["shards"] as? [[String: Any]])
        #expect(agentShards.count == 4)
        #expect(
            agentShards.allSatisfy { $0["running"] as? Bool == true && $0["failingAttempts"] as? Int == 0 })
        // The commands used the server's own key: no key was ever written, and the file that
        // holds that key is its owner's alone.
        let keys = try json(try await runChatlog(["apikey", "list", "--json"] + data).output)
        #expect((keys["keys"] as? [Any])?.isEmpty == true, "\(keys)")
        #expect(!FileManager.default.fileExists(atPath: directory.path + "/apikeys.json"))
        let addressFile = try FileManager.default.attributesOfItem(atPath: directory.path + "/server.json")
        #expect((addressFile[.posixPermissions] as? Int).map { $0 & 0o077 } == 0)

        server.kill(SIGTERM)
        _ = await server.readToEnd()
        #expect(await server.waitForExit() == 0)
        #expect(!FileManager.default.fileExists(atPath: directory.path + "/server.json"))
        // Stopped, the log is the command's own to write again.
        let offline = try await runChatlog(["consumers", "reset", "replayer", "--latest"] + data)
        #expect(offline.status == 0, "\(offline.error)")
        #expect(!offline.output.contains("running server"))
        let listedStopped = try json(try await runChatlog(["consumers", "list", "--json"] + data).output)
        #expect(listedStopped["serverAnswered"] as? Bool == false)
        let stopped = try json(
            try await runChatlog(["consumers", "describe", "agent", "--json"] + data).output)
        #expect(stopped["serverAnswered"] as? Bool == false)
        #expect(
            (stopped["shards"] as? [[String: Any]])?.allSatisfy { $0["running"] as? Bool == false } == true)
    }

    @Test func aWriterThatIsNotARunningServerIsNamedNotCalled() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        // This test process holds the log for writing, and it serves no admin API.
        let storage = try LogBackends.open(
            directory: directory.path, configuration: LogConfiguration(streams: ChatServer.streams))
        defer { storage.close() }
        let reset = ["consumers", "reset", "replayer", "--latest", "--data-dir", directory.path]
        // A server.json naming `pid`, and a port where nothing listens.
        func serverFile(pid: Int32) throws {
            let address: [String: Any] = ["pid": pid, "host": "127.0.0.1", "port": 1, "adminKey": "clk_x"]
            try JSONSerialization.data(withJSONObject: address).write(
                to: URL(fileURLWithPath: directory.path + "/server.json"))
        }
        let noFile = try await runChatlog(reset)
        #expect(noFile.status == 1)
        #expect(noFile.error.contains("another process holds the log"), "\(noFile.error)")

        // A server.json left by a killed server names a process that is gone.
        let finished = try ChildProcess(["--help"])
        _ = await finished.readToEnd()
        _ = await finished.waitForExit()
        try serverFile(pid: finished.process.processIdentifier)
        let staleFile = try await runChatlog(reset)
        #expect(staleFile.status == 1)
        #expect(staleFile.error.contains("another process holds the log"), "\(staleFile.error)")

        // A live process that does not answer where server.json says: a clear error, no hang.
        try serverFile(pid: getpid())
        let notAnswering = try await runChatlog(reset)
        #expect(notAnswering.status == 1)
        #expect(notAnswering.error.contains("cannot reach the running server"), "\(notAnswering.error)")
        // The read-only commands go on with what the log tells, and say why.
        let described = try await runChatlog(["consumers", "list", "--json", "--data-dir", directory.path])
        #expect(described.status == 0, "\(described.error)")
        #expect(described.error.contains("could not ask the running server"), "\(described.error)")
        #expect(try json(described.output)["serverAnswered"] as? Bool == false)
    }

    @Test func redriveHandsTheAgentsDeadLettersBackAndClearsThem() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let (channel, message) = try await {
            let storage = try LogBackends.open(
                directory: directory.path, configuration: LogConfiguration(streams: ChatServer.streams),
                projections: [ChatProjection()])
            defer { storage.close() }
            let chat = ChatService(log: storage)
            let channel = try await chat.createChannel(by: "alice", name: "a", members: [], agent: true)
            let posted = try await chat.postMessage(
                "are you there?", metadata: nil, to: channel.id, by: "alice")
            let record = try await #require(
                try storage.channelRecords(stream: .chatEvents, channelID: channel.id, after: 1, limit: 1)
                    .first)
            try await storage.addDeadLetter(
                DeadLetter(
                    group: "agent", stream: record.stream, shard: record.shard, seq: record.seq,
                    error: "model down",
                    attempts: 5, failedAt: .now()))
            return (channel.id, posted.message.id)
        }()
        let redrive = try await runChatlog([
            "consumers", "dlq", "redrive", "--json", "--data-dir", directory.path,
        ])
        #expect(redrive.status == 0, "\(redrive.error)")
        let result = try json(redrive.output)
        #expect(result["byServer"] as? Bool == false)
        #expect((result["redriven"] as? [String])?.count == 1)
        #expect((result["failed"] as? [Any])?.isEmpty == true)
        let storage = try LogBackends.open(
            directory: directory.path, configuration: LogConfiguration(streams: ChatServer.streams),
            projections: [ChatProjection()])
        defer { storage.close() }
        #expect(try await storage.deadLetters(group: "agent").isEmpty)
        let reply = try ChatService(log: storage).reply(to: message, in: channel)
        #expect(reply?.senderId == "agent")
    }
}
