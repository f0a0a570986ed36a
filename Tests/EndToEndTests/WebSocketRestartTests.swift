import Chat
import ChatServer
import ChatlogTestSupport
import EventLog
import Foundation
import LogBackends
import NIOWebSocket
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// WebSocket delivery across a SIGKILL of the real `chatlog serve`.
@Suite(.timeLimit(.minutes(2))) struct WebSocketRestartTests {
    private func start(_ directory: TemporaryDirectory) async throws -> (ChildProcess, Int) {
        let (server, base) = try await startServer(in: directory)
        return (server, try #require(URL(string: base)?.port))
    }

    private func post(_ port: Int, _ path: String, token: String, body: String) async throws -> [String: Any]
    {
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)\(path)")!)
        request.httpMethod = "POST"
        request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.httpBody = Data(body.utf8)
        let (data, _) = try await URLSession.shared.data(for: request)
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    private func registeredConnections(_ directory: TemporaryDirectory) throws -> [ConnectionRegistry.Entry] {
        let storage = try LogBackends.open(
            directory: directory.path, configuration: LogConfiguration(streams: ChatServer.streams),
            readOnly: true,
            stateTables: ConnectionRegistry.tables)
        defer { storage.close() }
        return try ConnectionRegistry(storage: storage).entries()
    }

    @Test func aRestartClearsStaleConnectionsAResumingClientGetsWhatItMissedAndSIGTERMCloses1001()
        async throws
    {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        var (server, port) = try await start(directory)
        let token = try await runChatlog(["token", "--data-dir", directory.path, "--user", "alice"]).output
            .split(separator: "\n").last.map(String.init)!
        let created = try await post(port, "/v1/channels", token: token, body: "{\"name\":\"r\"}")
        let channel = try #require((created["channel"] as? [String: Any])?["id"] as? String)

        let before = WebSocketProbe(port: port, token: token)
        try await before.subscribe(channel)
        _ = try await post(port, "/v1/channels/\(channel)/messages", token: token, body: "{\"text\":\"one\"}")
        let seen = try #require(try await before.next()["seq"] as? Int)
        let stale = try registeredConnections(directory)
        #expect(stale.count == 1)
        #expect(stale.first?.channels == [channel])

        server.kill(SIGKILL)
        _ = await server.readToEnd()
        _ = await server.waitForExit()
        _ = try? await before.closed()
        #expect(try registeredConnections(directory).count == 1)

        (server, port) = try await start(directory)
        #expect(try registeredConnections(directory).isEmpty)
        for text in ["two", "three"] {
            _ = try await post(
                port, "/v1/channels/\(channel)/messages", token: token, body: "{\"text\":\"\(text)\"}")
        }
        let after = WebSocketProbe(port: port, token: token)
        let subscribed = try await after.subscribe(channel, sinceSeq: UInt64(seen))
        #expect(subscribed["recovered"] as? Int == 2)
        let missed = [try await after.next(), try await after.next()]
        #expect(missed.map { $0["seq"] as? Int } == [seen + 1, seen + 2])
        #expect(missed.map { ($0["message"] as? [String: Any])?["text"] as? String } == ["two", "three"])
        // A graceful stop closes open sockets with 1001.
        server.kill(SIGTERM)
        let close = try await after.closed()
        #expect(close?.closeCode == .goingAway, "\(String(describing: close))")
        _ = await server.readToEnd()
        #expect(await server.waitForExit() == 0)
    }
}
