import ChatServer
import ChatlogTestSupport
import EventLog
import Foundation
import LogBackends
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// `chatlog serve` as users run it: a child process on a free port.
@Suite(.timeLimit(.minutes(2))) struct ServeTests {
    private func request(_ url: String, method: String = "GET", token: String? = nil, body: String? = nil)
        async throws
        -> (Int, [String: Any])
    {
        var request = URLRequest(url: URL(string: url)!)
        request.httpMethod = method
        if let token { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
        if let body {
            request.httpBody = Data(body.utf8)
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        }
        let (data, response) = try await URLSession.shared.data(for: request)
        let json = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:]
        return ((response as? HTTPURLResponse)?.statusCode ?? 0, json)
    }

    @Test func theDataDirectoryIsItsOwnersAloneWhateverTheUmaskAndIsFixedOnStart() async throws {
        let parent = try TemporaryDirectory()
        defer { parent.remove() }
        let directory = parent.path + "/data"
        var (server, url) = try await startServer(at: directory, umask: 0)
        #expect(try await request(url + "/v1/health").0 == 200)
        #expect(try await runChatlog(["apikey", "create", "--data-dir", directory]).status == 0)
        server.kill(SIGTERM)
        _ = await server.readToEnd()
        _ = await server.waitForExit()
        let modes = try Self.modes(under: directory)
        #expect(modes.keys.contains("log/data.mdb") && modes.keys.contains("jwt-secret"), "\(modes)")
        #expect(modes.filter { $0.value != ($0.key.hasSuffix("/") ? 0o700 : 0o600) }.isEmpty, "\(modes)")
        // A directory loosened since (or made by an older version) is fixed at the next start.
        chmod(directory, 0o755)
        chmod(directory + "/log/data.mdb", 0o644)
        chmod(directory + "/apikeys.json", 0o666)
        (server, url) = try await startServer(at: directory)
        #expect(try Self.modes(under: directory).values.allSatisfy { $0 == 0o700 || $0 == 0o600 })
        server.kill(SIGTERM)
        _ = await server.readToEnd()
        _ = await server.waitForExit()
        let logged = server.standardError()
        #expect(logged.contains("restricted the data directory to its owner"), "\(logged)")
    }

    /// Permission bits of a directory and everything in it, by relative path (directories end
    /// with "/").
    private static func modes(under root: String) throws -> [String: mode_t] {
        var modes: [String: mode_t] = [:]
        func visit(_ relative: String) throws {
            var status = stat()
            guard stat(root + "/" + relative, &status) == 0 else { throw CocoaError(.fileReadUnknown) }
            let isDirectory = status.st_mode & S_IFMT == S_IFDIR
            modes[relative + (isDirectory ? "/" : "")] = status.st_mode & 0o777
            guard isDirectory else { return }
            for name in try FileManager.default.contentsOfDirectory(atPath: root + "/" + relative) {
                try visit(relative.isEmpty ? name : relative + "/" + name)
            }
        }
        try visit("")
        return modes
    }

    @Test func serveNeedsNoSetUpStopsOnSIGTERMAndKeepsItsDataAcrossSIGKILL() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        var (server, url) = try await startServer(in: directory)
        #expect(try await request(url + "/v1/health").0 == 200)
        #expect(try await request(url + "/v1/ready").0 == 200)
        // `chatlog token` signs with the secret the server generated in the data directory.
        let token = try await runChatlog(["token", "--data-dir", directory.path, "--user", "alice"]).output
            .split(separator: "\n").last.map(String.init)!
        let (created, body) = try await request(
            url + "/v1/channels", method: "POST", token: token, body: "{\"name\":\"g\"}")
        #expect(created == 201)
        let channel = try #require((body["channel"] as? [String: Any])?["id"] as? String)
        #expect(
            try await request(
                url + "/v1/channels/\(channel)/messages", method: "POST", token: token,
                body: "{\"text\":\"kept\"}"
            ).0 == 201)
        // The agent consumer group runs inside serve: synchronous chat gets its reply.
        let (chatted, conversation) = try await request(
            url + "/v1/users/alice/chat", method: "POST", token: token, body: "{\"message\":\"ping\"}")
        #expect(chatted == 200)
        #expect((conversation["reply"] as? [String: Any])?["senderId"] as? String == "agent")
        server.kill(SIGKILL)
        _ = await server.readToEnd()
        #expect(await server.waitForExit() == SIGKILL)

        (server, url) = try await startServer(in: directory)
        let (status, page) = try await request(url + "/v1/channels/\(channel)/messages", token: token)
        #expect(status == 200)
        #expect((page["messages"] as? [[String: Any]])?.map { $0["text"] as? String } == ["kept"])
        server.kill(SIGTERM)
        _ = await server.readToEnd()
        #expect(await server.waitForExit() == 0)
        // A stop is said when it begins and once it is over.
        let logged = server.standardError()
        let begins = try #require(logged.range(of: "chatlog shutting down"), "\(logged)")
        let ends = try #require(logged.range(of: "chatlog stopped"), "\(logged)")
        #expect(begins.upperBound < ends.lowerBound)
        #expect(try await runChatlog(["log", "verify", "--data-dir", directory.path]).status == 0)
    }

    @Test func theAgentResumesFromItsCheckpointAfterSIGKILLWithoutLossOrDuplicates() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        var (server, url) = try await startServer(in: directory)
        let token = try await runChatlog(["token", "--data-dir", directory.path, "--user", "alice"]).output
            .split(separator: "\n").last.map(String.init)!
        let (_, created) = try await request(
            url + "/v1/channels", method: "POST", token: token, body: "{\"name\":\"a\",\"agent\":true}")
        let channel = try #require((created["channel"] as? [String: Any])?["id"] as? String)
        for index in 0..<30 {
            let (status, _) = try await request(
                url + "/v1/channels/\(channel)/messages", method: "POST", token: token,
                body: "{\"text\":\"m\(index)\"}")
            #expect(status == 201)
        }
        // Killed while the agent is still working through the messages.
        server.kill(SIGKILL)
        _ = await server.readToEnd()
        _ = await server.waitForExit()

        (server, url) = try await startServer(in: directory)
        // The channel is one shard and the agent works through it in order: once this last
        // message has its reply, every earlier one has been handled.
        let (status, _) = try await request(
            url + "/v1/users/alice/chat", method: "POST", token: token,
            body: "{\"message\":\"last\",\"conversationId\":\"\(channel)\"}")
        #expect(status == 200)
        server.kill(SIGTERM)
        _ = await server.readToEnd()
        #expect(await server.waitForExit() == 0)

        let storage = try LogBackends.open(
            directory: directory.path, configuration: LogConfiguration(streams: ChatServer.streams))
        defer { storage.close() }
        let records = try await storage.channelRecords(
            stream: .chatEvents, channelID: channel, after: 0, limit: 1000)
        let userMessages = records.filter { $0.type == "message.created" && $0.actor == "alice" }
        let replies = records.filter { $0.type == "message.created" && $0.actor == "agent" }
        #expect(userMessages.count == 31)
        #expect(replies.count == 31)
        #expect(Set(replies.compactMap(\.causationID)) == Set(userMessages.map(\.id)))
        #expect(try storage.verify().isSound)
    }
}
