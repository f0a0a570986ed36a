import AsyncHTTPClient
import ChatServer
import EventLog
import Foundation
import NIOCore
import NIOHTTP1

/// The server that holds a data directory's log, reached through its admin API when a command
/// must write while it runs, with the key the server left for the command line in
/// `server.json`: nothing is written, so nothing is left behind if the command is killed.
struct RunningServer {
    let address: ServerAddress

    /// The server that `server.json` names, if it runs: a file left by a killed server names a
    /// process that is gone.
    static func ifRunning(directory: String) -> RunningServer? {
        guard let address = ServerAddressFile.read(directory: directory), kill(address.pid, 0) == 0 else {
            return nil
        }
        return RunningServer(address: address)
    }

    /// The server that holds the log; an error that says what to do when there is none.
    static func locate(directory: String) throws -> RunningServer {
        guard let server = ifRunning(directory: directory) else {
            throw CommandFailure(
                "another process holds the log of \(directory) for writing, and it is not a server this "
                    + "command can reach (server.json names no running process): stop it and run the command again"
            )
        }
        return server
    }

    var description: String { "the running server (pid \(address.pid), port \(address.port))" }

    /// What a server holding `directory` says of each consumer group it runs: the group's shards
    /// by shard number. Nil when no server runs, or when it cannot be asked (said on standard
    /// error: the caller goes on with what the log alone tells).
    static func consumerGroups(directory: String) async -> [String: [Int: [String: Any]]]? {
        guard let server = ifRunning(directory: directory) else { return nil }
        do {
            let groups = try await server.get("/v1/admin/consumers")["groups"] as? [[String: Any]] ?? []
            return Dictionary(
                groups.compactMap { group in
                    guard let name = group["name"] as? String else { return nil }
                    let shards = (group["shards"] as? [[String: Any]] ?? []).compactMap { shard in
                        (shard["shard"] as? Int).map { ($0, shard) }
                    }
                    return (name, Dictionary(shards, uniquingKeysWith: { first, _ in first }))
                }, uniquingKeysWith: { first, _ in first })
        } catch {
            Console.error("could not ask \(server.description) about its consumer groups: \(error)")
            return nil
        }
    }

    /// POSTs `body` to an admin path and returns the JSON answer; an error answer is thrown with
    /// the server's own message.
    func post(_ path: String, body: [String: Any]) async throws -> [String: Any] {
        try await call(.POST, path, body: body)
    }

    /// GETs an admin path and returns the JSON answer.
    func get(_ path: String) async throws -> [String: Any] {
        try await call(.GET, path, body: nil)
    }

    private func call(_ method: HTTPMethod, _ path: String, body: [String: Any]?) async throws -> [String:
        Any]
    {
        let host = address.connectHost.contains(":") ? "[\(address.connectHost)]" : address.connectHost
        var request = HTTPClientRequest(url: "http://\(host):\(address.port)\(path)")
        request.method = method
        request.headers.add(name: "X-API-Key", value: address.adminKey)
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: body)))
        }
        // The server is local: a refused connection (a pid reused by another process, say) is an
        // answer at once, not after retrying for the default 10 s.
        let http = HTTPClient(
            eventLoopGroupProvider: .singleton, configuration: .init(timeout: .init(connect: .seconds(1))))
        let answer: (status: UInt, json: [String: Any])
        do {
            let response = try await http.execute(request, timeout: .seconds(60))
            let bytes = try await response.body.collect(upTo: 16 << 20)
            let json = (try? JSONSerialization.jsonObject(with: Data(buffer: bytes))) as? [String: Any] ?? [:]
            answer = (response.status.code, json)
            try await http.shutdown()
        } catch {
            try? await http.shutdown()
            throw CommandFailure("cannot reach \(description): \(error)")
        }
        guard (200..<300).contains(answer.status) else {
            let message = (answer.json["error"] as? [String: Any])?["message"] as? String ?? "\(answer.json)"
            throw CommandFailure("\(description) answered \(answer.status): \(message)")
        }
        return answer.json
    }
}
