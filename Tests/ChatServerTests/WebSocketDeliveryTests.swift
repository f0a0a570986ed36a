import Chat
import ChatServer
import ChatlogTestSupport
import EventLog
import Foundation
import HTTPTypes
import NIOWebSocket
import Testing

/// Three minutes: its JetStream cases wait for one of the test cluster's few slots, and that
/// wait counts against the limit.
@Suite(.timeLimit(.minutes(3))) struct WebSocketDeliveryTests {
    /// Reads frames until the one at `seq` and returns the seqs seen, in order.
    private func seqs(from probe: WebSocketProbe, through last: Int) async throws -> [Int] {
        var seen: [Int] = []
        while seen.last.map({ $0 < last }) ?? true {
            let frame = try await probe.next()
            guard let seq = frame["seq"] as? Int, frame["type"] as? String != "subscribed" else { continue }
            seen.append(seq)
        }
        return seen
    }

    @Test(arguments: TestBackend.allCases)
    func aResumeWhileAWriterKeepsAppendingIsContiguousWithoutDuplicates(on backend: TestBackend) async throws
    {
        try await TestServer.run(on: backend, configure: { $0.webSocket.delivery.replayPageSize = 7 }) {
            server in
            let channel = try await server.createChannel(by: "alice")
            for index in 0..<100 { _ = try await server.post("before \(index)", in: channel, by: "alice") }
            let writer = Task {
                for index in 0..<1000 {
                    _ = try await server.post("during \(index)", in: channel, by: "alice")
                }
            }
            let probe = WebSocketProbe(port: server.port, token: try await server.token("alice"))
            let subscribed = try await probe.subscribe(channel, sinceSeq: 40)
            let head = try #require(subscribed["seq"] as? Int)
            #expect(subscribed["recovered"] as? Int == head - 40)
            try await writer.value
            let last = 1 + 100 + 1000
            #expect(try await seqs(from: probe, through: last) == Array(41...last))
            try await probe.close()
        }
    }

    @Test(arguments: TestBackend.allCases) func aResetOfDeliveryResendsWhatConnectedClientsWereSent(
        on backend: TestBackend
    ) async throws {
        try await TestServer.run(on: backend) { server in
            let channel = try await server.createChannel(by: "alice")
            let probe = WebSocketProbe(port: server.port, token: try await server.token("alice"))
            _ = try await probe.subscribe(channel)
            for index in 0..<3 { _ = try await server.post("m\(index)", in: channel, by: "alice") }
            #expect(try await seqs(from: probe, through: 4) == [2, 3, 4])
            let (_, key) = try server.dependencies.apiKeys.create(name: "ops", scopes: [.admin])
            let reset = try await server.send(
                .post, "/v1/admin/consumers/delivery/reset", json: ["trimHorizon": true],
                headers: [HTTPField.Name("X-API-Key")!: key])
            #expect(reset.status == .ok, "\(reset.text)")
            // The group replays the log: the client gets it all again, and drops it by seq.
            #expect(try await seqs(from: probe, through: 4) == [1, 2, 3, 4])
            _ = try await server.post("after the replay", in: channel, by: "alice")
            #expect(try await seqs(from: probe, through: 5) == [5])
            try await probe.close()
        }
    }

    @Test(arguments: TestBackend.allCases) func sinceSeqZeroReplaysTheWholeChannel(on backend: TestBackend)
        async throws
    {
        try await TestServer.run(on: backend) { server in
            let channel = try await server.createChannel(by: "alice")
            for index in 0..<5 { _ = try await server.post("m\(index)", in: channel, by: "alice") }
            let probe = WebSocketProbe(port: server.port, token: try await server.token("alice"))
            let subscribed = try await probe.subscribe(channel, sinceSeq: 0)
            #expect(subscribed["recovered"] as? Int == 6)
            #expect(subscribed["truncated"] as? Bool == false)
            let first = try await probe.next()
            #expect(first["type"] as? String == "event")
            #expect((first["event"] as? [String: Any])?["type"] as? String == "channel.created")
            #expect(try await seqs(from: probe, through: 6) == Array(2...6))
            try await probe.close()
        }
    }

    @Test func aSlowClientIsCutOffWith1008WhileAFastOneGetsEverything() async throws {
        let configure: (inout ServerConfiguration) -> Void = {
            $0.webSocket.delivery.maxQueuedFrames = 8
            // Long enough for the close frame to wait until Bob reads again.
            $0.webSocket.closeTimeout = .seconds(120)
        }
        try await TestServer.run(configure: configure) { server in
            let channel = try await server.createChannel(by: "alice", members: ["bob"])
            let fast = WebSocketProbe(port: server.port, token: try await server.token("alice"))
            // Bob reads his `subscribed` frame, then nothing until he is told to.
            let slow = WebSocketProbe(port: server.port, token: try await server.token("bob"), readLimit: 1)
            try await fast.subscribe(channel)
            try await slow.subscribe(channel)
            // Enough bytes to fill the socket buffers between them and then Bob's queue.
            let text = String(repeating: "x", count: 60_000)
            let count = 400
            for _ in 0..<count { _ = try await server.post(text, in: channel, by: "alice") }
            #expect(try await seqs(from: fast, through: count + 1) == Array(2...(count + 1)))
            await slow.resumeReading()
            let close = try await slow.closed()
            #expect(close?.closeCode == .policyViolation)
            #expect(close?.reason == "slow consumer")
            #expect(server.dependencies.hub.statistics.slowConsumerDisconnects.load(ordering: .relaxed) == 1)
            let metrics = try await server.send(.get, "/metrics")
            #expect(metrics.text.contains("chatlog_ws_slow_consumer_disconnects_total 1"))
            try await fast.close()
        }
    }

    @Test func aClientThatNeverReadsAgainIsCutOffWithinTheCloseTimeout() async throws {
        let configure: (inout ServerConfiguration) -> Void = {
            $0.webSocket.delivery.maxQueuedFrames = 8
            $0.webSocket.closeTimeout = .milliseconds(300)
        }
        try await TestServer.run(configure: configure) { server in
            let channel = try await server.createChannel(by: "alice")
            let slow = WebSocketProbe(port: server.port, token: try await server.token("alice"), readLimit: 1)
            try await slow.subscribe(channel)
            let hub = server.dependencies.hub
            let text = String(repeating: "x", count: 60_000)
            while hub.statistics.slowConsumerDisconnects.load(ordering: .relaxed) == 0 {
                _ = try await server.post(text, in: channel, by: "alice")
            }
            // Its close frame cannot reach a client that reads nothing: the socket is cut instead.
            await hub.waitUntilDisconnected(timeout: .seconds(10))
            #expect(hub.connectionCount == 0)
        }
    }

    @Test(arguments: TestBackend.allCases) func theAgentsReplyIsDeliveredToo(on backend: TestBackend)
        async throws
    {
        try await TestServer.run(on: backend, agent: true) { server in
            let channel = try await server.createChannel(by: "alice", agent: true)
            let probe = WebSocketProbe(port: server.port, token: try await server.token("alice"))
            try await probe.subscribe(channel)
            let posted = try await server.post("what is a log?", in: channel, by: "alice")
            #expect(
                (try await probe.next()["message"] as? [String: Any])?["id"] as? String == posted["id"]
                    as? String)
            let reply = try await probe.next()
            #expect(reply["type"] as? String == "message")
            let message = try #require(reply["message"] as? [String: Any])
            #expect(message["senderId"] as? String == "agent")
            #expect(message["replyTo"] as? String == posted["id"] as? String)
            try await probe.close()
        }
    }

    @Test(arguments: TestBackend.allCases)
    func theRegistryTracksConnectionsAndSubscriptionsAndShutdownClosesWith1001(on backend: TestBackend)
        async throws
    {
        try await TestServer.run(on: backend) { server in
            let channel = try await server.createChannel(by: "alice")
            let probe = WebSocketProbe(port: server.port, token: try await server.token("alice"))
            try await probe.subscribe(channel)
            let registry = ConnectionRegistry(storage: server.storage)
            let entries = try registry.entries()
            #expect(entries.map(\.userId) == ["alice"])
            #expect(entries.first?.channels == [channel])
            let metrics = try await server.send(.get, "/metrics")
            #expect(metrics.text.contains("chatlog_ws_connections 1"))
            #expect(metrics.text.contains("chatlog_ws_subscriptions 1"))

            server.dependencies.hub.closeAll(.shutdown)
            let close = try await probe.closed()
            #expect(close?.closeCode == .goingAway)
            await server.dependencies.hub.waitUntilDisconnected(timeout: .seconds(10))
            #expect(try registry.entries().isEmpty)
        }
    }

    /// The hub keeps state only for channels someone watches: a channel whose subscribers have
    /// all gone, whichever way they went, leaves nothing behind, so its memory does not grow with
    /// the channels that pass through the log.
    @Test func theHubForgetsAChannelOnceItsLastSubscriberIsGone() async throws {
        // One shard: the delivery group fans every record out in the order it was appended.
        var log = LogConfiguration(streams: ChatServer.streams)
        log.streams = [StreamConfiguration(name: .chatEvents, shardCount: 1)]
        try await TestServer.run(log: log) { server in
            let hub = server.dependencies.hub
            let watched = try await server.createChannel(by: "alice", members: ["bob"])
            let leftByBob = try await server.createChannel(by: "alice", members: ["bob"])
            let alice = WebSocketProbe(port: server.port, token: try await server.token("alice"))
            let bob = WebSocketProbe(port: server.port, token: try await server.token("bob"))
            try await alice.subscribe(watched)
            try await bob.subscribe(watched)
            try await bob.subscribe(leftByBob)
            _ = try await server.post("one", in: watched, by: "alice")
            _ = try await server.post("two", in: leftByBob, by: "alice")
            #expect(try await alice.next()["seq"] as? Int == 2)
            #expect(try await bob.next()["seq"] as? Int == 2)
            #expect(try await bob.next()["seq"] as? Int == 2)
            #expect(hub.subscribedChannelCount == 2)
            #expect(hub.fanOutMarkCount == 2)

            // Membership ends: bob's subscription goes, and with it the channel.
            _ = try await server.send(.delete, "/v1/channels/\(leftByBob)/members/bob", as: "alice")
            #expect(try await bob.next()["type"] as? String == "event")
            #expect(try await bob.next()["type"] as? String == "unsubscribed")
            #expect(hub.subscribedChannelCount == 1)
            #expect(hub.fanOutMarkCount == 1)

            // Unsubscribing keeps the channel while another subscriber remains.
            try bob.send(["type": "unsubscribe", "channelId": watched])
            #expect(try await bob.next()["type"] as? String == "unsubscribed")
            #expect(hub.subscribedChannelCount == 1)

            // A closed socket takes the last subscriber, and the channel, away.
            try await alice.close()
            try await bob.close()
            await hub.waitUntilDisconnected(timeout: .seconds(10))
            #expect(hub.subscriptionCount == 0)
            #expect(hub.subscribedChannelCount == 0)
            #expect(hub.fanOutMarkCount == 0)

            // A record of a channel nobody watches leaves no mark: by the time the later record
            // of a watched channel arrives, the unwatched one has been fanned out.
            _ = try await server.post("three", in: watched, by: "alice")
            let watcher = WebSocketProbe(port: server.port, token: try await server.token("alice"))
            try await watcher.subscribe(leftByBob)
            _ = try await server.post("four", in: leftByBob, by: "alice")
            #expect(try await watcher.next()["seq"] as? Int == 4)
            #expect(hub.fanOutMarkCount == 1)
            try await watcher.close()
        }
    }
}
