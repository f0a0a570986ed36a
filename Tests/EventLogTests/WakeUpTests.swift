import ChatlogTestSupport
import Testing

@testable import EventLog
@testable import EventLogLMDB

@Suite(.timeLimit(.minutes(1))) struct WakeUpTests {
    @Test func aWaitingReaderWakesOnTheCommitThatPassesItsPosition() async throws {
        try await withLog { storage, _ in
            let shard = ShardKey(stream: .chatEvents, shard: Partitioner.shard(for: "k", shardCount: 4))
            let waiter = Task { try await storage.waitForRecords(shard, after: 0) }
            _ = try await storage.append(event("k"))
            try await waiter.value
            // Already past: returns at once.
            try await storage.waitForRecords(shard, after: 0)
        }
    }

    @Test func aWaiterIsNotWokenByOtherShards() async throws {
        try await withLog { storage, _ in
            let shard = ShardKey(stream: .chatEvents, shard: Partitioner.shard(for: "k", shardCount: 4))
            let other = (0..<100).map { "other-\($0)" }.first {
                Partitioner.shard(for: $0, shardCount: 4) != shard.shard
            }!
            let woke = Task { try await storage.waitForRecords(shard, after: 0) }
            _ = try await storage.append(event(other))
            // The other shard's commit has been published; ours has not happened.
            #expect(try #require(storage as? LMDBStorage).notifier.head(shard) == 0)
            woke.cancel()
            await #expect(throws: CancellationError.self) { try await woke.value }
        }
    }

    @Test func manyWaitersAllWake() async throws {
        try await withLog { storage, _ in
            let shard = ShardKey(stream: .chatEvents, shard: Partitioner.shard(for: "k", shardCount: 4))
            try await withThrowingTaskGroup(of: Void.self) { group in
                for after in 0..<50 {
                    group.addTask {
                        try await storage.waitForRecords(shard, after: SequenceNumber(after % 5))
                    }
                }
                for _ in 0..<5 { _ = try await storage.append(event("k")) }
                try await group.waitForAll()
            }
        }
    }

    @Test func closingFailsWaitersInsteadOfHangingThem() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let storage = try LMDBStorage(directory: directory.path, configuration: .twoStreams)
        let waiter = Task {
            try await storage.waitForRecords(ShardKey(stream: .chatEvents, shard: 0), after: 0)
        }
        while storage.notifier.waiterCount == 0 { await Task.yield() }
        storage.close()
        await #expect(throws: EventLogError.closed) { try await waiter.value }
        await #expect(throws: EventLogError.closed) { _ = try await storage.append(event("k")) }
        #expect(throws: EventLogError.closed) {
            _ = try storage.shardInfo(ShardKey(stream: .chatEvents, shard: 0))
        }
    }

    @Test func aLimitEndsTheWaitWithFalseAndLeavesNoWaiter() async throws {
        try await withLog { storage, _ in
            let lmdb = try #require(storage as? LMDBStorage)
            let shard = ShardKey(stream: .chatEvents, shard: Partitioner.shard(for: "k", shardCount: 4))
            let started = ContinuousClock.now
            let timedOut = try await storage.waitForRecords(
                shard, after: 0, interrupt: nil, limit: .milliseconds(50))
            #expect(!timedOut)
            #expect(ContinuousClock.now - started >= .milliseconds(50))
            #expect(lmdb.notifier.waiterCount == 0)
            let spent = try await storage.waitForRecords(shard, after: 0, interrupt: nil, limit: .zero)
            #expect(!spent)
            _ = try await storage.append(event("k"))
            // Records beat a limit, even a spent one.
            let past = try await storage.waitForRecords(shard, after: 0, interrupt: nil, limit: .zero)
            #expect(past)
            // A commit ends a limited wait early.
            let waiter = Task {
                try await storage.waitForRecords(shard, after: 1, interrupt: nil, limit: .seconds(30))
            }
            while lmdb.notifier.waiterCount == 0 { await Task.yield() }
            _ = try await storage.append(event("k"))
            let woke = try await waiter.value
            #expect(woke)
            #expect(ContinuousClock.now - started < .seconds(30))
        }
    }

    @Test func anInterruptEndsTheWaitAndOneFiredBeforeItIsKept() async throws {
        try await withLog { storage, _ in
            let lmdb = try #require(storage as? LMDBStorage)
            let shard = ShardKey(stream: .chatEvents, shard: 0)
            let interrupt = WaitInterrupt()
            let waiter = Task {
                try await storage.waitForRecords(shard, after: 0, interrupt: interrupt, limit: nil)
            }
            while lmdb.notifier.waiterCount == 0 { await Task.yield() }
            interrupt.fire()
            let interrupted = try await waiter.value
            #expect(interrupted)
            #expect(lmdb.notifier.waiterCount == 0)
            // Fired with no wait in progress: the next wait returns at once, the one after waits.
            interrupt.fire()
            let kept = try await storage.waitForRecords(
                shard, after: 0, interrupt: interrupt, limit: .seconds(30))
            #expect(kept)
            let used = try await storage.waitForRecords(
                shard, after: 0, interrupt: interrupt, limit: .milliseconds(20))
            #expect(!used)
            // A wait that ended otherwise leaves the interrupt free for the next one.
            let cancelled = Task {
                try await storage.waitForRecords(shard, after: 0, interrupt: interrupt, limit: nil)
            }
            while lmdb.notifier.waiterCount == 0 { await Task.yield() }
            cancelled.cancel()
            await #expect(throws: CancellationError.self) { try await cancelled.value }
            interrupt.fire()
            let next = try await storage.waitForRecords(
                shard, after: 0, interrupt: interrupt, limit: .seconds(30))
            #expect(next)
        }
    }
}
