import ChatlogTestSupport
import Testing

@testable import EventLog
@testable import EventLogLMDB

/// A projection counting records per partition key. Its one rule: a record of type `once` is
/// admitted only while its key has no record.
struct CountingProjection: Projection {
    var tables: [String] { ["counts"] }

    func admit(_ request: AppendRequest, given store: any ProjectionStore) throws {
        if request.type == "once", try Self.count(request.partitionKey, in: store) >= 1 { throw Refused() }
    }

    func apply(_ record: Record, to store: any ProjectionStore) throws {
        let key = Array(record.partitionKey.utf8)
        let count = try store.get("counts", key: key).map { Int($0[0]) } ?? 0
        try store.put("counts", key: key, value: [UInt8(count + 1)])
    }

    static func count(_ key: String, in store: any ProjectionStore) throws -> Int {
        try store.get("counts", key: Array(key.utf8)).map { Int($0[0]) } ?? 0
    }
}

struct Refused: Error, Equatable {}

@Suite(.timeLimit(.minutes(1))) struct ProjectionTests {
    private func open(_ directory: TemporaryDirectory) throws -> LMDBStorage {
        try LMDBStorage(
            directory: directory.path, configuration: .twoStreams, projections: [CountingProjection()])
    }

    @Test func projectionsAreUpdatedInTheAppendTransaction() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let storage = try open(directory)
        defer { storage.close() }
        for _ in 0..<3 { _ = try await storage.append(event("a")) }
        _ = try await storage.append([event("b"), event("a")])
        #expect(try storage.readProjections { try CountingProjection.count("a", in: $0) } == 4)
        #expect(try storage.readProjections { try CountingProjection.count("b", in: $0) } == 1)
        // A repeated idempotency key appends nothing, so the projection does not count it.
        var keyed = event("c")
        keyed.idempotencyKey = "once"
        _ = try await storage.append(keyed)
        _ = try await storage.append(keyed)
        #expect(try storage.readProjections { try CountingProjection.count("c", in: $0) } == 1)
    }

    @Test func aRefusedRequestRefusesOnlyItsAppend() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let storage = try open(directory)
        defer { storage.close() }
        var refused = event("a")
        refused.type = "once"
        // Concurrent appends share a commit; the refused one must not disturb the others.
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<20 { group.addTask { _ = try await storage.append(event("b")) } }
            group.addTask { _ = try await storage.append(event("a")) }
            try await group.waitForAll()
        }
        await #expect(throws: Refused.self) { _ = try await storage.append(refused) }
        #expect(try storage.readProjections { try CountingProjection.count("a", in: $0) } == 1)
        #expect(try storage.readProjections { try CountingProjection.count("b", in: $0) } == 20)
    }

    @Test func aMultiRecordAppendWithARefusedRecordAppendsNothing() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let storage = try open(directory)
        defer { storage.close() }
        // The first record of the same append is already visible to the second's rule.
        var second = event("x")
        second.type = "once"
        async let others: Void = {
            for _ in 0..<10 { _ = try await storage.append(event("y")) }
        }()
        await #expect(throws: Refused.self) { _ = try await storage.append([event("x"), second]) }
        try await others
        #expect(try storage.readProjections { try CountingProjection.count("x", in: $0) } == 0)
        #expect(try storage.readProjections { try CountingProjection.count("y", in: $0) } == 10)
        #expect(try storage.verify().isSound)
        let shard = ShardKey(stream: .chatEvents, shard: Partitioner.shard(for: "x", shardCount: 4))
        #expect(try await allRecords(storage, shard).allSatisfy { $0.partitionKey != "x" })
    }

    @Test func aConditionalAppendLandsOnlyOnTheHeadItExpects() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let storage = try open(directory)
        defer { storage.close() }
        for text in ["one", "two"] { _ = try await storage.append(message("c", text)) }
        var stale = message("c", "decided at seq 1")
        stale.expectedChannelHead = 1
        await #expect(throws: EventLogError.channelHeadMoved(channelID: "c", expected: 1, actual: 2)) {
            _ = try await storage.append(stale)
        }
        // In a multi-record append the head moves with the append's own records, and a refusal
        // takes the whole append with it.
        await #expect(throws: EventLogError.channelHeadMoved(channelID: "c", expected: 1, actual: 3)) {
            _ = try await storage.append([message("c", "three"), stale])
        }
        #expect(try storage.channelHead(stream: .chatEvents, channelID: "c") == 2)
        var current = message("c", "decided at seq 2")
        current.expectedChannelHead = 2
        let appended = try await storage.append(current)
        #expect(appended.record.channelSeq == 3)
        var first = message("new", "a new channel starts at 0")
        first.expectedChannelHead = 0
        #expect(try await storage.append(first).record.channelSeq == 1)
        #expect(try storage.verify().isSound)
    }

    @Test func scansWalkAPrefixBothWays() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let storage = try open(directory)
        defer { storage.close() }
        for key in ["p1", "p2", "p3", "q1"] { _ = try await storage.append(event(key)) }
        let (forward, backward, fromMiddle) = try storage.readProjections { store in
            var forward: [String] = []
            var backward: [String] = []
            var fromMiddle: [String] = []
            try store.scan("counts", prefix: Array("p".utf8), from: nil, reverse: false) {
                forward.append(String(decoding: $0, as: UTF8.self)); _ = $1
                return true
            }
            try store.scan("counts", prefix: Array("p".utf8), from: nil, reverse: true) {
                backward.append(String(decoding: $0, as: UTF8.self)); _ = $1
                return true
            }
            try store.scan("counts", prefix: Array("p".utf8), from: Array("p2".utf8), reverse: true) {
                fromMiddle.append(String(decoding: $0, as: UTF8.self)); _ = $1
                return fromMiddle.count < 5
            }
            return (forward, backward, fromMiddle)
        }
        #expect(forward == ["p1", "p2", "p3"])
        #expect(backward == ["p3", "p2", "p1"])
        #expect(fromMiddle == ["p2", "p1"])
    }
}

@Suite(.timeLimit(.minutes(1))) struct ProjectionConsistencyTests {
    @Test func verifyFindsAProjectionThatNoLongerMatchesTheLog() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let storage = try LMDBStorage(
            directory: directory.path, configuration: .twoStreams, projections: [CountingProjection()])
        defer { storage.close() }
        for index in 0..<50 { _ = try await storage.append(event("k\(index % 7)")) }
        #expect(try storage.projectionMismatches() == [])
        try await storage.writing { context in
            try context.projectionStore.put("counts", key: Array("k3".utf8), value: [99])
        }
        #expect(try storage.projectionMismatches() == ["counts"])
    }
}
