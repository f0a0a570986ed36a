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
        var directory: String
    }

    /// Starts two nodes with their own data directories over streams of their own, sharing
    /// one JWT secret (a load balancer may send a client to either).
    private func withTwoNodes(
        on cluster: NATSCluster? = nil, environment extra: [String: String] = [:],
        _ body: (Node, Node, [String: String]) async throws -> Void
    ) async throws {
        let shared = cluster == nil ? try await NATSCluster.shared() : nil
        let cluster = try #require(cluster ?? shared)
        let prefix = "e" + UUID().uuidString.prefix(8).lowercased()
        let environment = [
            "CHATLOG_LOG_STORAGE": "jetstream", "CHATLOG_NATS_SERVERS": cluster.urls.joined(separator: ","),
            "CHATLOG_NATS_PREFIX": prefix,
            "CHATLOG_JWT_SECRET": "a-cluster-secret-that-is-long-enough-for-hs256",
        ].merging(extra) { $1 }
        let applied = try await runChatlog(["cluster", "apply"], environment: environment)
        #expect(applied.status == 0, "\(applied.error)")
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
        let nodeA = Node(
            process: a, base: baseA, port: try #require(URL(string: baseA)?.port), directory: first.path)
        let nodeB = Node(
            process: b, base: baseB, port: try #require(URL(string: baseB)?.port), directory: second.path)
        try await body(nodeA, nodeB, environment.merging(["CHATLOG_DATA_DIR": first.path]) { $1 })
    }

    private func token(_ environment: [String: String]) async throws -> String {
        try #require(
            try await runChatlog(["token", "--user", "alice"], environment: environment).output
                .split(separator: "\n").last.map(String.init))
    }

    /// Posts `m<poster>-<index>` messages from `posters` clients (alternating nodes) until
    /// `stop` says so; returns the texts answered 201 and the number of other answers.
    private func post(
        to nodes: [Node], channel: String, token: String, posters: Int,
        until stop: @escaping @Sendable () -> Bool
    ) async throws -> (acknowledged: [String], failed: Int) {
        try await withThrowingTaskGroup(of: ([String], Int).self) { group in
            for poster in 0..<posters {
                let node = nodes[poster % nodes.count]
                group.addTask {
                    var acknowledged: [String] = []
                    var failed = 0
                    var index = 0
                    while !stop() {
                        let text = "m\(poster)-\(index)"
                        index += 1
                        let status = try? await request(
                            "POST", node.base + "/v1/channels/\(channel)/messages", token: token,
                            body: ["text": text]
                        ).0
                        if status == 201 { acknowledged.append(text) } else { failed += 1 }
                    }
                    return (acknowledged, failed)
                }
            }
            return try await group.reduce(into: ([], 0)) {
                $0.0 += $1.0
                $0.1 += $1.1
            }
        }
    }

    /// Every message of a channel, oldest first, through the API's pages.
    private func fullHistory(_ node: Node, _ channel: String, token: String) async throws -> [[String: Any]] {
        var messages: [[String: Any]] = []
        var after = 0
        while true {
            let (status, body) = try await request(
                "GET", node.base + "/v1/channels/\(channel)/messages?limit=100&after=\(after)", token: token)
            #expect(status == 200)
            let page = body["messages"] as? [[String: Any]] ?? []
            guard let last = page.last?["seq"] as? Int else { return messages }
            messages += page
            after = last
        }
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

    @Test(.timeLimit(.minutes(3)))
    func aKilledNodesAgentWorkGoesToTheOtherNodeAndEachMessageGetsOneReply() async throws {
        try await withTwoNodes(environment: ["CHATLOG_NATS_CLAIM_LIFETIME_SECONDS": "2"]) {
            a, b, environment in
            let token = try await token(environment)
            let channel = try await createChannel("agent", at: a.base, token: token, agent: true)
            try await eventually("node b has folded the new channel") {
                try await request("GET", b.base + "/v1/channels/\(channel)", token: token).0 == 200
            }
            // Both nodes take posts and answer them; node a dies mid-stream.
            let started = ContinuousClock.now
            let load = Task {
                try await post(to: [a, b], channel: channel, token: token, posters: 4) {
                    ContinuousClock.now - started > .seconds(5)
                }
            }
            try await Task.sleep(for: .seconds(2))
            a.process.kill()
            let (acknowledged, _) = try await load.value
            #expect(acknowledged.count > 20, "\(acknowledged.count) posts acknowledged")
            // Node b answers what node a held and what came after: one reply per message.
            var history: [[String: Any]] = []
            var asked: Set<String> = []
            try await eventually("every acknowledged post has a reply", within: .seconds(60)) {
                history = try await fullHistory(b, channel, token: token)
                let posts = history.filter { $0["senderId"] as? String != "agent" }
                asked = Set(posts.compactMap { $0["id"] as? String })
                let answered = Set(history.compactMap { $0["replyTo"] as? String })
                let texts = Set(posts.compactMap { $0["text"] as? String })
                return acknowledged.allSatisfy(texts.contains) && asked.isSubset(of: answered)
            }
            let replies = history.compactMap { $0["replyTo"] as? String }
            #expect(replies.count == asked.count, "no message has a second reply")
            #expect(Set(replies) == asked)
        }
    }

    @Test(.timeLimit(.minutes(3)))
    func killingANATSServerAndANodeUnderLoadLosesNoAcknowledgedMessageAndTheNodeCatchesUp() async throws {
        let cluster = try await NATSCluster.start()
        defer { cluster.stop() }
        try await withTwoNodes(on: cluster) { a, b, environment in
            let token = try await token(environment)
            let channel = try await createChannel("faults", at: a.base, token: token)
            try await eventually("node b has folded the new channel") {
                try await request("GET", b.base + "/v1/channels/\(channel)", token: token).0 == 200
            }
            let started = ContinuousClock.now
            let phase = { @Sendable in ContinuousClock.now - started }
            let load = Task {
                try await post(to: [a, b], channel: channel, token: token, posters: 20) {
                    phase() > .seconds(8)
                }
            }
            try await Task.sleep(for: .seconds(2))
            cluster.kill(0)
            let (acknowledged, failed) = try await load.value
            // The load ran (how much of it after the kill depends on how soon the cluster
            // re-elects: the next check bounds that); every one acknowledged is checked below.
            #expect(
                acknowledged.count > 20,
                "\(acknowledged.count) acknowledged, \(failed) failed")
            // Writes go on with two of three servers. How soon is the failover bench's figure
            // (tools/bench-cluster.sh); beside the whole suite on two cores the cluster's new
            // election can take far longer than alone, so this only bounds it.
            var attempt = 0
            try await eventually("a node accepts writes with two of three servers", within: .seconds(60)) {
                attempt += 1
                return try await request(
                    "POST", a.base + "/v1/channels/\(channel)/messages", token: token,
                    body: ["text": "after-\(attempt)"]
                ).0 == 201
            }
            // Node a answered its own posts once folded; b's reach it as it folds them.
            var history: [[String: Any]] = []
            try await eventually("node a holds every acknowledged post", within: .seconds(60)) {
                history = try await fullHistory(a, channel, token: token)
                let texts = Set(history.compactMap { $0["text"] as? String })
                return acknowledged.allSatisfy(texts.contains)
            }
            let texts = history.compactMap { $0["text"] as? String }
            let counts = Dictionary(texts.map { ($0, 1) }, uniquingKeysWith: +)
            #expect(counts.values.allSatisfy { $0 == 1 }, "no post is there twice")
            let seqs = history.compactMap { $0["seq"] as? Int }
            #expect(seqs == Array(seqs.first!..<(seqs.first! + seqs.count)))

            // A node killed mid-stream comes back, catches up and serves the same history.
            b.process.kill()
            _ = await b.process.waitForExit()
            // Known intermittent: about one full-suite run in three, the restarted node exits 1
            // at start with nothing on either output (cause not yet found; issue 20).
            var restart: (ChildProcess, String)?
            await withKnownIssue("restarted node exits 1 at start", isIntermittent: true) {
                restart = try await startServer(at: b.directory, environment: environment)
            }
            guard let (restarted, base) = restart else { return }
            defer { restarted.kill() }
            let again = Node(
                process: restarted, base: base, port: try #require(URL(string: base)?.port),
                directory: b.directory)
            let expected = history.map { "\($0["id"] ?? "")@\($0["seq"] ?? "")" }
            try await eventually("the restarted node serves the same history", within: .seconds(60)) {
                let now = try await fullHistory(again, channel, token: token).map {
                    "\($0["id"] ?? "")@\($0["seq"] ?? "")"
                }
                return now == expected
            }
        }
    }
}
