import AsyncHTTPClient
import ChatServer
import EventLog
import Foundation
import NIOCore
import NIOHTTP1

/// The server that holds a data directory's log, reached through its admin API when a command
/// must write while it runs. Whoever may write the data directory may create API keys in it, so
/// the command creates one for its call and removes it afterwards.
struct RunningServer {
    let address: ServerAddress
    let directory: String

    /// The server that `server.json` names, if it runs: a file left by a killed server names a
    /// process that is gone.
    static func ifRunning(directory: String) -> RunningServer? {
        guard let address = ServerAddressFile.read(directory: directory), kill(address.pid, 0) == 0 else {
            return nil
        }
        return RunningServer(address: address, directory: directory)
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
        let keys = APIKeyStore(directory: directory)
        let (key, secret) = try keys.create(name: "chatlog command line (temporary)")
        defer { _ = try? keys.remove(id: key.id) }
        let host = address.connectHost.contains(":") ? "[\(address.connectHost)]" : address.connectHost
        var request = HTTPClientRequest(url: "http://\(host):\(address.port)\(path)")
        request.method = method
        request.headers.add(name: "X-API-Key", value: secret)
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: body)))
        }
        let http = HTTPClient(eventLoopGroupProvider: .singleton)
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
