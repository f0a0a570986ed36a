import ChatlogTestSupport
import EventLogJetStream
import LogBackends
import Testing

@testable import EventLog

/// Two nodes over one JetStream log: each with its own replica directory.
@Suite(.timeLimit(.minutes(2))) struct JetStreamNodesTests {
    private func withTwoNodes(_ body: (any LogBackend, any LogBackend) async throws -> Void) async throws {
        try await ChatlogTestSupport.withTwoNodes(.twoStreams, body)
    }

    @Test func concurrentAppendsThroughTwoNodesNumberOneChannelWithoutGapsAndAlike() async throws {
        try await withTwoNodes { a, b in
            let perNode = 100
            try await withThrowingTaskGroup(of: Void.self) { group in
                for (name, node) in [("a", a), ("b", b)] {
                    for writer in 0..<10 {
                        group.addTask {
                            for index in 0..<(perNode / 10) {
                                _ = try await node.append(message("shared", "\(name)-\(writer)-\(index)"))
                            }
                        }
                    }
                }
                try await group.waitForAll()
            }
            let shard = ShardKey(
                stream: .chatEvents,
                shard: Partitioner.shard(for: "shared", shardCount: try a.descriptor(.chatEvents).shardCount))
            // Each node answered its own appends after folding them; the other's arrive soon.
            try await eventually("both replicas hold every record") {
                let heads = (try await a.shardInfo(shard).head, try await b.shardInfo(shard).head)
                return heads == (2 * SequenceNumber(perNode), 2 * SequenceNumber(perNode))
            }
            let onA = try await allRecords(a, shard)
            let onB = try await allRecords(b, shard)
            #expect(onA == onB)
            #expect(onA.map(\.channelSeq) == (1...SequenceNumber(2 * perNode)).map { $0 })
            #expect(Set(onA.map(\.payloadText)).count == 2 * perNode)
            #expect(try a.verify().isSound && b.verify().isSound)
        }
    }

    @Test func anIdempotencyKeyUsedOnBothNodesAppendsOnce() async throws {
        try await withTwoNodes { a, b in
            async let first = a.append(message("c1", "hello", key: "k1"))
            async let second = b.append(message("c1", "hello", key: "k1"))
            let results = try await [first, second]
            #expect(results[0].record == results[1].record)
            #expect(results.filter(\.isDuplicate).count == 1)
            #expect(try await b.channelHead(stream: .chatEvents, channelID: "c1") == 1)
        }
    }

    @Test func aConditionalAppendRacingOnTwoNodesLandsOnce() async throws {
        try await withTwoNodes { a, b in
            _ = try await a.append(message("c1", "first"))
            try await eventually("b holds the first record") {
                try await b.channelHead(stream: .chatEvents, channelID: "c1") == 1
            }
            var fromA = message("c1", "from a")
            fromA.expectedChannelHead = 1
            var fromB = message("c1", "from b")
            fromB.expectedChannelHead = 1
            async let onA = Result { try await a.append(fromA) }
            async let onB = Result { try await b.append(fromB) }
            let outcomes = await [onA, onB]
            #expect(outcomes.filter { (try? $0.get()) != nil }.count == 1)
            for case .failure(let error) in outcomes {
                #expect(error as? EventLogError == .channelHeadMoved(channelID: "c1", expected: 1, actual: 2))
            }
        }
    }
    @Test func streamsUnlikeTheConfigurationAreNamedAndRefusedUntilApplied() async throws {
        let configuration = try await LogConfiguration.twoStreams.on(.jetStream)
        defer { configuration.removeStreams() }
        guard case .jetStream(let settings) = configuration.backend else { return }
        var changed = configuration
        changed.streams[0].retention = Retention(maxAge: .seconds(3600))
        let plan = try JetStreamStorage.plan(configuration: changed, settings: settings)
        let updates = plan.filter { $0.action == .update }
        #expect(updates.count == changed.streams[0].shardCount)
        // The duplicate window (the key lifetime, 24 h) may not outlast the messages.
        let differences = [
            "duplicateWindow: 86400.0 seconds -> 3600.0 seconds", "maxAge: none -> 3600.0 seconds",
        ]
        #expect(updates.allSatisfy { $0.differences == differences }, "\(updates)")
        try await TemporaryDirectory.with { directory in
            let refusal = #expect(throws: EventLogError.self) {
                try LogBackends.open(directory: directory.path, configuration: changed).close()
            }
            #expect(
                refusal?.description.contains("run `chatlog cluster apply`") == true,
                "\(String(describing: refusal))")
            #expect(try JetStreamStorage.apply(configuration: changed, settings: settings) == plan)
            #expect(
                try JetStreamStorage.plan(configuration: changed, settings: settings).allSatisfy {
                    $0.action == .keep
                })
            try LogBackends.open(directory: directory.path, configuration: changed).close()
        }
    }
}

extension Result where Failure == any Error {
    init(catching body: () async throws -> Success) async {
        do {
            self = .success(try await body())
        } catch {
            self = .failure(error)
        }
    }
}
