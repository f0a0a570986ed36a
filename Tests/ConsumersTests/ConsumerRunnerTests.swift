import ChatlogTestSupport
import EventLog
import Foundation
import Logging
import Synchronization
import Testing

@testable import Consumers

/// A handler that reports every record it sees, and fails on payloads containing "poison".
final class RecordingHandler: RecordHandler {
    let seen: AsyncStream<Record>
    private let continuation: AsyncStream<Record>.Continuation
    let attempts = Mutex<[String: Int]>([:])

    init() {
        (seen, continuation) = AsyncStream.makeStream()
    }

    struct Poisoned: Error {}

    func handle(_ record: Record) async throws {
        attempts.withLock { $0[record.position.description, default: 0] += 1 }
        if record.payloadText.contains("poison") { throw Poisoned() }
        continuation.yield(record)
    }
}

extension StreamName {
    fileprivate static let events: StreamName = "events"
}

@Suite(.timeLimit(.minutes(1))) struct ConsumerRunnerTests {
    /// A log of two shards.
    private func withLog(
        configuration: LogConfiguration = LogConfiguration(), _ body: (any LogBackend) async throws -> Void
    ) async throws {
        var configuration = configuration
        configuration.streams = [StreamConfiguration(name: .events, shardCount: 2)]
        try await ChatlogTestSupport.withLog(configuration: configuration) { storage, _ in
            try await body(storage)
        }
    }

    private func group() -> ConsumerGroupConfiguration {
        var group = ConsumerGroupConfiguration(name: "test", stream: .events)
        group.batchSize = 7
        group.retry = RetryPolicy(
            maxAttempts: 3, initialBackoff: .milliseconds(1), maxBackoff: .milliseconds(4))
        return group
    }

    private func append(_ storage: any LogBackend, _ text: String, key: String) async throws -> Record {
        try await storage.append(
            AppendRequest(
                stream: .events, partitionKey: key, type: "t", actor: "a",
                payload: Array("\"\(text)\"".utf8))
        ).record
    }

    /// Runs the group until `body` returns, then stops it.
    private func running(
        _ storage: any LogBackend, _ handler: RecordingHandler, checkpointInterval: Duration = .zero,
        idleCheckpointDelay: Duration = .zero, status: ConsumerStatus = ConsumerStatus(),
        _ body: () async throws -> Void
    ) async throws {
        var group = group()
        group.checkpointInterval = checkpointInterval
        group.idleCheckpointDelay = idleCheckpointDelay
        group.refusedCheckpointRetryDelay = .milliseconds(10)
        let runner = ConsumerRunner(
            storage: storage, group: group, handler: handler, status: status, logger: Logger(label: "test"))
        let task = Task { try await runner.run() }
        defer { task.cancel() }
        try await body()
        task.cancel()
        try await task.value
    }

    @Test func aLongCheckpointIntervalStillStoresTheCheckpointBeforeIdlingAndOnStop() async throws {
        try await withLog { storage in
            for index in 0..<40 { _ = try await append(storage, "r\(index)", key: "k\(index % 5)") }
            let handler = RecordingHandler()
            try await running(storage, handler, checkpointInterval: .seconds(3600)) {
                var iterator = handler.seen.makeAsyncIterator()
                for _ in 0..<40 { _ = try #require(await iterator.next()) }
                let late = try await append(storage, "late", key: "k1")
                #expect(try #require(await iterator.next()).position == late.position)
                // The late record woke its shard from idle, and the checkpoint is stored before
                // idling: everything before the late record is checkpointed.
                let shard = late.position.shardKey
                #expect(try await storage.checkpoint(group: "test", shard: shard) >= late.seq - 1)
            }
            for shard in try storage.descriptor(.events).shards {
                #expect(
                    try await storage.checkpoint(group: "test", shard: shard) == storage.shardInfo(shard).head
                )
            }
        }
    }

    @Test func aShardThatIsNeverIdleForTheDelayStoresNoCheckpointUntilItStops() async throws {
        try await withLog { storage in
            let handler = RecordingHandler()
            try await running(
                storage, handler, checkpointInterval: .seconds(3600), idleCheckpointDelay: .seconds(3600)
            ) {
                var iterator = handler.seen.makeAsyncIterator()
                var last: Record?
                // One record at a time: the shard catches up and pauses after each of them.
                for index in 0..<20 {
                    let record = try await append(storage, "r\(index)", key: "same")
                    #expect(try #require(await iterator.next()).position == record.position)
                    last = record
                }
                let shard = try #require(last).position.shardKey
                #expect(try await storage.checkpoint(group: "test", shard: shard) == 0)
            }
            for shard in try storage.descriptor(.events).shards {
                #expect(
                    try await storage.checkpoint(group: "test", shard: shard) == storage.shardInfo(shard).head
                )
            }
        }
    }

    @Test func anIdleShardStoresARefusedCheckpointOnceTheLogHasRoomAgain() async throws {
        var configuration = LogConfiguration.twoStreams
        configuration.initialMapSize = 1 << 20
        configuration.maxMapSize = 1 << 20
        try await withLog(configuration: configuration) { storage in
            let shards = try storage.descriptor(.events).shards
            for shard in shards { try await storage.setCheckpoint(0, group: "test", shard: shard) }
            // A reader holding its snapshot keeps LMDB from reusing any page freed after it, so
            // the map fills for good: first with records, then with checkpoint writes.
            let snapshot = HeldSnapshot(storage)
            // Released on every path: closing the log waits for its readers.
            defer { snapshot.release() }
            await snapshot.held()
            var appended = 0
            while true {
                do {
                    _ = try await append(storage, String(repeating: "x", count: 900), key: "k\(appended)")
                    appended += 1
                } catch EventLogError.storageFull {
                    break
                }
            }
            while true {
                do {
                    try await storage.setCheckpoint(0, group: "test", shard: shards[0])
                } catch EventLogError.storageFull {
                    break
                }
            }
            let handler = RecordingHandler()
            let status = ConsumerStatus()
            try await running(storage, handler, status: status) {
                var iterator = handler.seen.makeAsyncIterator()
                for _ in 0..<appended { _ = try #require(await iterator.next()) }
                // Each shard refuses at most its last batch's checkpoint and the idle one after
                // all is handled; more refusals are the idle shards trying again.
                let refusedOnceHandled = status.refusals
                try await eventually("the idle shards try their checkpoints again") {
                    status.refusals >= refusedOnceHandled + UInt64(2 * shards.count + 1)
                }
                for shard in shards {
                    #expect(try await storage.checkpoint(group: "test", shard: shard) == 0)
                }
                snapshot.release()
                try await eventually("the checkpoints reach the heads once there is room") {
                    for shard in shards {
                        let head = try await storage.shardInfo(shard).head
                        guard try await storage.checkpoint(group: "test", shard: shard) == head else {
                            return false
                        }
                    }
                    return true
                }
            }
            #expect(appended > 0)
        }
    }

    @Test func retryDelaysGrowAndAreCapped() {
        let policy = RetryPolicy(
            maxAttempts: 9, initialBackoff: .milliseconds(10), maxBackoff: .milliseconds(50))
        #expect(
            (1...5).map { policy.delay(afterAttempt: $0) } == [
                .milliseconds(10), .milliseconds(20), .milliseconds(40), .milliseconds(50), .milliseconds(50),
            ])
    }

    @Test func theStateMachineCheckpointsAfterTheBatchAndDeadLettersAfterTheLastAttempt() {
        var state = ShardConsumerState(checkpoint: 4, policy: RetryPolicy(maxAttempts: 2))
        #expect(state.next() == .load(after: 4))
        let records = (5...6).map {
            Record(
                id: RecordID(high: 0, low: $0), stream: .events, shard: 0, seq: $0, type: "t",
                partitionKey: "k",
                channelID: nil, channelSeq: nil, actor: "a", createdAt: Timestamp(microseconds: 0),
                idempotencyKey: nil,
                causationID: nil, payload: [])
        }
        state.loaded(records)
        #expect(state.next() == .deliver(records[0], attempt: 1))
        #expect(state.failed() == .retry(after: .milliseconds(50)))
        #expect(state.next() == .deliver(records[0], attempt: 2))
        #expect(state.failed() == .deadLetter(attempts: 2))
        state.deadLettered()
        #expect(state.next() == .deliver(records[1], attempt: 1))
        state.delivered()
        #expect(state.next() == .checkpoint(6))
        state.checkpointed(6)
        #expect(state.next() == .load(after: 6))
    }

    @Test func everyRecordIsHandledInShardOrderAndTheCheckpointReachesTheHead() async throws {
        try await withLog { storage in
            for index in 0..<40 { _ = try await append(storage, "r\(index)", key: "k\(index % 5)") }
            let handler = RecordingHandler()
            try await running(storage, handler) {
                var seen: [ShardID: [SequenceNumber]] = [:]
                var iterator = handler.seen.makeAsyncIterator()
                for _ in 0..<40 {
                    let record = try #require(await iterator.next())
                    seen[record.shard, default: []].append(record.seq)
                }
                for (_, seqs) in seen { #expect(seqs == Array(1...SequenceNumber(seqs.count))) }
                // After catching up, a new append wakes the group without any polling.
                let late = try await append(storage, "late", key: "k1")
                let woken = try #require(await iterator.next())
                #expect(woken.position == late.position)
            }
            for shard in try storage.descriptor(.events).shards {
                #expect(
                    try await storage.checkpoint(group: "test", shard: shard) == storage.shardInfo(shard).head
                )
            }
        }
    }

    @Test func aPoisonRecordIsDeadLetteredAndTheShardMovesOn() async throws {
        try await withLog { storage in
            _ = try await append(storage, "fine 1", key: "same")
            let poison = try await append(storage, "poison", key: "same")
            let after = try await append(storage, "fine 2", key: "same")
            let handler = RecordingHandler()
            try await running(storage, handler) {
                var iterator = handler.seen.makeAsyncIterator()
                #expect(await iterator.next()?.payloadText == "\"fine 1\"")
                #expect(await iterator.next()?.position == after.position)
            }
            let letters = try await storage.deadLetters(group: "test")
            #expect(letters.map(\.position) == [poison.position])
            #expect(letters.first?.attempts == 3)
            #expect(letters.first?.error.contains("Poisoned") == true)
            #expect(handler.attempts.withLock { $0[poison.position.description] } == 3)
            #expect(try await storage.checkpoint(group: "test", shard: poison.position.shardKey) == after.seq)
            #expect(try await storage.removeDeadLetter(group: "test", position: poison.position))
            #expect(try await storage.deadLetters(group: nil).isEmpty)
        }
    }

    @Test func aRestartResumesAfterTheCheckpointWithoutLosingAnything() async throws {
        try await withLog { storage in
            var shard: ShardKey?
            for index in 0..<10 {
                shard = try await append(storage, "first \(index)", key: "one").position.shardKey
            }
            let first = RecordingHandler()
            try await running(storage, first) {
                var iterator = first.seen.makeAsyncIterator()
                for _ in 0..<10 { _ = await iterator.next() }
            }
            // Stopped at an arbitrary moment: whatever is past the stored checkpoint comes again.
            let checkpoint = try await storage.checkpoint(group: "test", shard: try #require(shard))
            #expect(checkpoint <= 10)
            for index in 0..<5 { _ = try await append(storage, "second \(index)", key: "one") }
            let second = RecordingHandler()
            try await running(storage, second) {
                var iterator = second.seen.makeAsyncIterator()
                var seqs: [SequenceNumber] = []
                while seqs.count < Int(15 - checkpoint), let record = await iterator.next() {
                    if record.position.shardKey == shard { seqs.append(record.seq) }
                }
                #expect(seqs == Array((checkpoint + 1)...15))
            }
        }
    }
}

@Suite(.timeLimit(.minutes(1))) struct ConsumerControlTests {
    @Test func aResetFiresEveryInterruptOfTheShardAndIsTakenOnce() async throws {
        var configuration = LogConfiguration()
        configuration.streams = [StreamConfiguration(name: .events, shardCount: 3)]
        try await withLog(configuration: configuration) { storage, _ in
            let control = ConsumerControl()
            let (first, second, other) = (WaitInterrupt(), WaitInterrupt(), WaitInterrupt())
            control.register(first, for: 1)
            control.register(second, for: 1)
            control.register(other, for: 2)
            let shard = ShardKey(stream: .events, shard: 1)
            async let firstWoke = storage.waitForRecords(shard, after: 0, interrupt: first, limit: nil)
            async let secondWoke = storage.waitForRecords(shard, after: 0, interrupt: second, limit: nil)
            control.requestReset(1, to: 7)
            let woke = try await (firstWoke, secondWoke)
            #expect(woke == (true, true))
            #expect(control.takeReset(1) == 7)
            #expect(control.takeReset(1) == nil)
            // The other shard's interrupt did not fire; an unregistered one no longer does.
            let otherShard = ShardKey(stream: .events, shard: 2)
            let otherWoke = try await storage.waitForRecords(
                otherShard, after: 0, interrupt: other, limit: .milliseconds(20))
            #expect(!otherWoke)
            control.unregister(first, for: 1)
            control.requestReset(1, to: 8)
            let unregisteredWoke = try await storage.waitForRecords(
                shard, after: 0, interrupt: first, limit: .milliseconds(20))
            #expect(!unregisteredWoke)
        }
    }
}

extension ConsumerStatus {
    fileprivate var refusals: UInt64 { snapshot.values.reduce(0) { $0 + $1.checkpointsRefused } }
}

/// A read transaction held open on a thread of its own until released.
private final class HeldSnapshot: Sendable {
    private let gate = DispatchSemaphore(value: 0)
    private let holding: AsyncStream<Void>

    init(_ storage: any LogBackend) {
        let (holding, started) = AsyncStream<Void>.makeStream()
        self.holding = holding
        let gate = gate
        Thread.detachNewThread {
            try? storage.readProjections { _ in
                started.yield()
                gate.wait()
            }
            started.finish()
        }
    }

    func held() async {
        for await _ in holding { return }
    }

    func release() {
        gate.signal()
    }
}
