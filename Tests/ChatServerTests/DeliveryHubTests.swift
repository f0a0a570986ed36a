import Chat
import ChatlogTestSupport
import EventLog
import Foundation
import Logging
import NIOCore
import Testing

@testable import ChatServer

/// The delivery hub on its own, over a real log, without sockets: the test plays both the
/// delivery consumer group (fanOut) and the connection (next, resume).
@Suite(.timeLimit(.minutes(1))) struct DeliveryHubTests {
    private struct Harness {
        let chat: ChatService
        let hub: DeliveryHub
        let channel: String

        /// Plays the delivery group: hands the hub every record of the channel after `seq`.
        func fanOut(after seq: SequenceNumber) async throws {
            for record in try await chat.log.channelRecords(
                stream: .chatEvents, channelID: channel, after: seq, limit: 1000)
            {
                hub.fanOut(record)
            }
            hub.releaseWakes()
        }

        /// Plays the connection: takes every frame the session has now, reading its resumes.
        func frames(of session: DeliverySession) async throws -> [[String: Any]] {
            var frames: [ByteBuffer] = []
            while true {
                switch hub.next(for: session) {
                case .idle: return try frames.map(Self.json)
                case .close(let reason): return try frames.map(Self.json) + [["closed": "\(reason)"]]
                case .frames(let queued, _): frames += queued
                case .resume(let step): frames += try await hub.resume(step, of: session)
                }
            }
        }

        func post(_ text: String, by user: String = "alice") async throws {
            _ = try await chat.postMessage(text, metadata: nil, to: channel, by: user)
        }

        /// The JSON of a frame the hub rendered whole, WebSocket header included.
        static func json(_ frame: ByteBuffer) throws -> [String: Any] {
            let bytes = Array(frame.readableBytesView)
            let header =
                switch bytes[1] & 0x7F {
                case 126: 4
                case 127: 10
                default: 2
                }
            let payload = Data(bytes[header...])
            return try #require(try JSONSerialization.jsonObject(with: payload) as? [String: Any])
        }
    }

    private func withHub(
        _ configuration: DeliveryConfiguration = DeliveryConfiguration(),
        _ body: (Harness) async throws -> Void
    ) async throws {
        try await withLog(
            configuration: LogConfiguration(streams: ChatServer.streams), projections: ChatServer.projections,
            stateTables: ConnectionRegistry.tables
        ) { storage, _ in
            let chat = ChatService(log: storage)
            let hub = DeliveryHub(
                chat: chat, authority: try await TokenAuthority(secret: TestServer.secret),
                configuration: configuration, logger: Logger(label: "test"))
            try await hub.start()
            let channel = try await chat.createChannel(by: "alice", name: "x", members: ["bob"], agent: false)
            try await body(Harness(chat: chat, hub: hub, channel: channel.id))
        }
    }

    private func subscribe(
        _ session: DeliverySession, to channel: String, sinceSeq: Int? = nil, in hub: DeliveryHub
    ) async {
        var frame: [String: Any] = ["type": "subscribe", "channelId": channel]
        if let sinceSeq { frame["sinceSeq"] = sinceSeq }
        await hub.receive(text: Array(try! JSONSerialization.data(withJSONObject: frame)), from: session)
    }

    private func seqs(_ frames: [[String: Any]]) -> [Int] {
        frames.filter { $0["type"] as? String != "subscribed" }.compactMap { $0["seq"] as? Int }
    }

    @Test func aResumeReadsTheLogThenTheLiveFramesFollowWithoutGapOrDuplicate() async throws {
        var configuration = DeliveryConfiguration()
        configuration.replayPageSize = 2
        try await withHub(configuration) { harness in
            for index in 0..<5 { try await harness.post("before \(index)") }
            try await harness.fanOut(after: 0)
            let session = try #require(await harness.hub.connect(user: "bob") {})
            await subscribe(session, to: harness.channel, sinceSeq: 2, in: harness.hub)
            // Records committed while the resume reads: the fan-out sees them too.
            try await harness.post("during")
            try await harness.fanOut(after: 6)
            let frames = try await harness.frames(of: session)
            #expect(frames.first?["type"] as? String == "subscribed")
            #expect(seqs(frames) == Array(3...7))
            try await harness.post("after")
            try await harness.fanOut(after: 7)
            #expect(seqs(try await harness.frames(of: session)) == [8])
        }
    }

    @Test func aFrameAfterAGapSendsTheSubscriptionBackToTheLog() async throws {
        try await withHub { harness in
            let session = try #require(await harness.hub.connect(user: "alice") {})
            await subscribe(session, to: harness.channel, in: harness.hub)
            _ = try await harness.frames(of: session)
            for index in 0..<3 { try await harness.post("m\(index)") }
            // The fan-out of seq 2 is lost: 3 and 4 arrive past a gap, and the log fills it.
            let records = try await harness.chat.log.channelRecords(
                stream: .chatEvents, channelID: harness.channel, after: 2, limit: 10)
            for record in records { harness.hub.fanOut(record) }
            harness.hub.releaseWakes()
            #expect(seqs(try await harness.frames(of: session)) == [2, 3, 4])
        }
    }

    @Test func aReplayIsResentAndTheLiveFramesGoOn() async throws {
        try await withHub { harness in
            let session = try #require(await harness.hub.connect(user: "alice") {})
            await subscribe(session, to: harness.channel, in: harness.hub)
            try await harness.post("one")
            try await harness.fanOut(after: 0)
            #expect(seqs(try await harness.frames(of: session)) == [2])
            try await harness.fanOut(after: 0)
            #expect(seqs(try await harness.frames(of: session)) == [1, 2])
            try await harness.post("two")
            try await harness.fanOut(after: 2)
            #expect(seqs(try await harness.frames(of: session)) == [3])
        }
    }

    @Test func aRemovedMemberGetsTheRemovalThenUnsubscribed() async throws {
        try await withHub { harness in
            let session = try #require(await harness.hub.connect(user: "bob") {})
            await subscribe(session, to: harness.channel, in: harness.hub)
            _ = try await harness.frames(of: session)
            _ = try await harness.chat.removeMember("bob", from: harness.channel, by: "alice")
            try await harness.post("bob no longer sees this")
            try await harness.fanOut(after: 1)
            let frames = try await harness.frames(of: session)
            #expect(frames.map { $0["type"] as? String } == ["event", "unsubscribed"])
            #expect(harness.hub.subscribedChannelCount == 0)
        }
    }

    @Test func aSessionWhoseQueueOverflowsIsClosedAsASlowConsumer() async throws {
        var configuration = DeliveryConfiguration()
        configuration.maxQueuedFrames = 3
        try await withHub(configuration) { harness in
            let fast = try #require(await harness.hub.connect(user: "alice") {})
            let slow = try #require(await harness.hub.connect(user: "bob") {})
            await subscribe(fast, to: harness.channel, in: harness.hub)
            await subscribe(slow, to: harness.channel, in: harness.hub)
            // Both read up to the live frames; then the slow one stops reading.
            _ = try await harness.frames(of: fast)
            _ = try await harness.frames(of: slow)
            var fastSeqs: [Int] = []
            for index in 0..<6 {
                try await harness.post("m\(index)")
                try await harness.fanOut(after: SequenceNumber(index + 1))
                fastSeqs += seqs(try await harness.frames(of: fast))
            }
            #expect(fastSeqs == Array(2...7))
            #expect(slow.closeReason == .slowConsumer)
            #expect(harness.hub.statistics.slowConsumerDisconnects.load(ordering: .relaxed) == 1)
        }
    }
}
