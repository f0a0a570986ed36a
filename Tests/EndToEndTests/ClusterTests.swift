import ChatlogTestSupport
import Foundation
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// Two real `chatlog serve` nodes over one real 3-server JetStream cluster.
@Suite(.timeLimit(.minutes(2))) struct ClusterTests {
    private struct Node {
        var process: ChildProcess
        var base: String
        var port: Int
    }

    /// Starts two nodes with their own data directories over streams of their own, sharing
    /// one JWT secret (a load balancer may send a client to either).
    private func withTwoNodes(_ body: (Node, Node, [String: String]) async throws -> Void) async throws {
        let cluster = try await NATSCluster.shared()
        let prefix = "e" + UUID().uuidString.prefix(8).lowercased()
        let environment = [
            "CHATLOG_LOG_STORAGE": "jetstream", "CHATLOG_NATS_SERVERS": cluster.urls.joined(separator: ","),
            "CHATLOG_NATS_PREFIX": prefix,
            "CHATLOG_JWT_SECRET": "a-cluster-secret-that-is-long-enough-for-hs256",
        ]
        let first = try TemporaryDirectory()
        let second = try TemporaryDirectory()
        defer {
            first.remove()
            second.remove()
        }
        let (a, baseA) = try await startServer(at: first.path, environment: environment)
        defer { a.kill() }
        let (b, baseB) = try await startServer(at: second.path, environment: environment)
        defer { b.kill() }
        let nodeA = Node(process: a, base: baseA, port: try #require(URL(string: baseA)?.port))
        let nodeB = Node(process: b, base: baseB, port: try #require(URL(string: baseB)?.port))
        try await body(nodeA, nodeB, environment.merging(["CHATLOG_DATA_DIR": first.path]) { $1 })
    }

    private func request(
        _ method: String, _ url: String, token: String, body: [String: Any]? = nil
    ) async throws -> (Int, [String: Any]) {
        var request = URLRequest(url: URL(string: url)!)
        request.httpMethod = method
        request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
        if let body {
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
            request.httpBody = try JSONSerialization.data(withJSONObject: body)
        }
        let (data, response) = try await URLSession.shared.data(for: request)
        let json = (try? JSONSerialization.jsonObject(with: data) as? [String: Any]) ?? [:]
        return ((response as? HTTPURLResponse)?.statusCode ?? 0, json)
    }

    private func history(_ node: Node, _ channel: String, token: String) async throws -> [[String: Any]] {
        let (status, body) = try await request(
            "GET", node.base + "/v1/channels/\(channel)/messages?limit=100", token: token)
        #expect(status == 200)
        return body["messages"] as? [[String: Any]] ?? []
    }

    @Test func aMessagePostedOnOneNodeReachesASubscriberOfTheOtherOnceAndHistoryAgrees() async throws {
        try await withTwoNodes { a, b, environment in
            let token = try #require(
                try await runChatlog(["token", "--user", "alice"], environment: environment).output
                    .split(separator: "\n").last.map(String.init))
            let channel = try await createChannel("cluster", at: a.base, token: token)
            try await eventually("node b has folded the new channel") {
                try await request("GET", b.base + "/v1/channels/\(channel)", token: token).0 == 200
            }
            let probe = WebSocketProbe(port: b.port, token: token)
            try await probe.subscribe(channel)
            for text in ["one", "two"] {
                let (status, _) = try await request(
                    "POST", a.base + "/v1/channels/\(channel)/messages", token: token, body: ["text": text])
                #expect(status == 201)
            }
            let first = try await probe.next()
            let second = try await probe.next()
            #expect((first["message"] as? [String: Any])?["text"] as? String == "one")
            #expect((second["message"] as? [String: Any])?["text"] as? String == "two")
            #expect(second["seq"] as? Int == (first["seq"] as? Int).map { $0 + 1 })

            // Both nodes post at once: one history, numbered without gaps, the same on both.
            try await withThrowingTaskGroup(of: Int.self) { group in
                for index in 0..<20 {
                    let node = index.isMultiple(of: 2) ? a : b
                    group.addTask {
                        try await request(
                            "POST", node.base + "/v1/channels/\(channel)/messages", token: token,
                            body: ["text": "m\(index)"]
                        ).0
                    }
                }
                for try await status in group { #expect(status == 201) }
            }
            try await eventually("both nodes hold all 22 messages") {
                let counts = (
                    try await history(a, channel, token: token).count,
                    try await history(b, channel, token: token).count
                )
                return counts == (22, 22)
            }
            let onA = try await history(a, channel, token: token)
            let onB = try await history(b, channel, token: token)
            let seqs = onA.compactMap { $0["seq"] as? Int }
            #expect(seqs == Array(seqs.first!..<(seqs.first! + 22)))
            #expect(
                onA.map { "\($0["id"] ?? "")@\($0["seq"] ?? "")" }
                    == onB.map { "\($0["id"] ?? "")@\($0["seq"] ?? "")" })
        }
    }
}
