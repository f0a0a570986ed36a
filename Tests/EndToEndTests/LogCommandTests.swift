import ChatServer
import ChatlogTestSupport
import EventLog
import Foundation
import LMDB
import LogBackends
import Testing

/// The `chatlog log` commands, run as a user would, on stopped and live data directories.
@Suite(.timeLimit(.minutes(2))) struct LogCommandTests {
    private func fill(_ directory: TemporaryDirectory, count: Int = 50) async throws {
        let result = try await runChatlog([
            "debug", "append-load", "--data-dir", directory.path, "--appenders", "5", "--count",
            "\(count / 5)",
            "--channels", "3",
        ])
        #expect(result.status == 0, "\(result.error)")
    }

    private func json(_ text: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    }

    @Test func getRecordsPrintsTheDocumentedJSONAndItsTokenContinues() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        try await fill(directory)
        var seqs: [Int] = []
        var arguments = [
            "log", "get-records", "--data-dir", directory.path, "--shard", "0", "--limit", "4", "--json",
        ]
        for _ in 0..<3 {
            let result = try await runChatlog(arguments)
            #expect(result.status == 0, "\(result.error)")
            let page = try json(result.output)
            let records = try #require(page["records"] as? [[String: Any]])
            for key in [
                "stream", "shard", "seq", "id", "type", "createdAt", "channelId", "channelSeq", "payload",
            ] {
                #expect(records.first?[key] != nil, "missing \(key)")
            }
            #expect((records.first?["payload"] as? [String: Any])?["text"] != nil)
            seqs += records.compactMap { $0["seq"] as? Int }
            let next = try #require(page["nextIterator"] as? String)
            arguments = [
                "log", "get-records", "--data-dir", directory.path, "--token", next, "--limit", "4", "--json",
            ]
        }
        #expect(seqs == Array(1...seqs.count))
    }

    @Test func verifyExitsNonZeroAndNamesTheDamagedRecord() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        try await fill(directory)
        #expect(try await runChatlog(["log", "verify", "--data-dir", directory.path]).status == 0)
        let shard = Partitioner.shard(for: "load-0", shardCount: 4)
        do {
            let path = (LogBackends.dataFile(directory: directory.path) as NSString).deletingLastPathComponent
            let environment = try Environment(path: path)
            defer { environment.close() }
            try environment.write { transaction in
                let records = try transaction.openDatabase("records/chat_events/\(shard)")
                let key = withUnsafeBytes(of: UInt64(2).bigEndian) { Array($0) }
                var value = try #require(try transaction.get(records, key: key))
                value[100] ^= 0xFF
                try transaction.put(records, key: key, value: value)
            }
        }
        let result = try await runChatlog(["log", "verify", "--data-dir", directory.path, "--json"])
        #expect(result.status == 1)
        let report = try json(result.output)
        #expect(report["ok"] as? Bool == false)
        let violations = try #require(report["violations"] as? [[String: Any]])
        #expect(violations.first?["check"] as? String == "checksum")
        #expect(violations.first?["location"] as? String == "chat_events/\(shard)/2")
    }

    @Test func inspectionWorksBesideARunningWriter() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let writer = try ChildProcess([
            "debug", "append-load", "--data-dir", directory.path, "--appenders", "4",
        ])
        defer { writer.kill() }
        #expect(await writer.nextLine() == "ready")
        for _ in 0..<50 { _ = await writer.nextLine() }
        let verify = try await runChatlog(["log", "verify", "--data-dir", directory.path, "--json"])
        #expect(verify.status == 0, "\(verify.error)")
        #expect(try json(verify.output)["ok"] as? Bool == true)
        let streams = try await runChatlog(["log", "streams", "--data-dir", directory.path, "--json"])
        #expect(streams.status == 0)
        let list = try #require(try json(streams.output)["streams"] as? [[String: Any]])
        #expect(list.map { $0["name"] as? String } == ["chat_events", "triggers"])
        let tail = try await runChatlog(["log", "tail", "--data-dir", directory.path, "-n", "5", "--json"])
        #expect(tail.output.split(separator: "\n").count == 5)
        writer.kill()
        _ = await writer.readToEnd()
        _ = await writer.waitForExit()
    }

    @Test func tailFollowPrintsWhatAnotherProcessAppends() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        // This test process writes the log; the command follows it from another process.
        let storage = try LogBackends.open(
            directory: directory.path, configuration: LogConfiguration(streams: ChatServer.streams))
        defer { storage.close() }
        func append(_ texts: [String]) async throws {
            _ = try await storage.append(
                texts.map {
                    .channel(
                        "followed", type: "message.created", actor: "test", stream: .chatEvents,
                        payload: Array("{\"text\":\"\($0)\"}".utf8))
                })
        }
        func text(_ line: String?) throws -> String? {
            let record = try json(try #require(line, "tail --follow printed nothing more"))
            return (record["payload"] as? [String: Any])?["text"] as? String
        }
        try await append(["older", "newest"])
        let tail = try ChildProcess([
            "log", "tail", "--follow", "--json", "-n", "1", "--data-dir", directory.path,
        ])
        defer { tail.kill() }
        #expect(try text(await tail.nextLine(within: .seconds(30))) == "newest")
        try await append(["one"])
        #expect(try text(await tail.nextLine(within: .seconds(30))) == "one")
        // More than one read's worth in one commit: all of it is printed, in order.
        let burst = (0..<2500).map { "burst \($0)" }
        try await append(burst)
        for expected in burst {
            guard try text(await tail.nextLine(within: .seconds(30))) == expected else {
                Issue.record("tail --follow lost or reordered \(expected)")
                break
            }
        }
        tail.kill(SIGINT)
        #expect(await tail.readToEnd().isEmpty)
        _ = await tail.waitForExit()
    }

    @Test func errorsAreClearMessagesNotCrashes() async throws {
        let missing = try await runChatlog(["log", "streams", "--data-dir", "/nonexistent/chatlog"])
        #expect(missing.status == 1)
        #expect(missing.error.contains("no chatlog data directory at /nonexistent/chatlog"))
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        try await fill(directory, count: 5)
        let badIterator = try await runChatlog([
            "log", "get-records", "--data-dir", directory.path, "--iterator", "SIDEWAYS",
        ])
        #expect(badIterator.status != 0)
        #expect(badIterator.error.contains("unknown iterator type 'SIDEWAYS'"))
        let badToken = try await runChatlog([
            "log", "get-records", "--data-dir", directory.path, "--token", "zzz",
        ])
        #expect(badToken.status == 1)
        #expect(badToken.error.contains("malformed shard iterator"))
        let badShard = try await runChatlog([
            "log", "get-records", "--data-dir", directory.path, "--shard", "9",
        ])
        #expect(badShard.error.contains("stream 'chat_events' has no shard 9"))
    }
}
