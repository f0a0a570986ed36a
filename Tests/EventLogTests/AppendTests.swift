import ChatlogTestSupport
import Foundation
import Synchronization
import Testing

@testable import EventLog
@testable import EventLogLMDB

/// Three minutes: its JetStream cases wait for one of the test cluster's few slots, and that
/// wait counts against the limit.
@Suite(.timeLimit(.minutes(3))) struct AppendTests {
    @Test(arguments: TestBackend.allCases) func sequenceNumbersStartAtOneAndAreContiguousPerShard(
        on backend: TestBackend
    ) async throws {
        try await withLog(on: backend) { storage, _ in
            for index in 0..<100 { _ = try await storage.append(event("key-\(index % 7)")) }
            var total = 0
            for shard in try storage.descriptor(.chatEvents).shards {
                let records = try await allRecords(storage, shard)
                #expect(records.map(\.seq) == (0..<records.count).map { SequenceNumber($0 + 1) })
                total += records.count
                let info = try await storage.shardInfo(shard)
                #expect(info.head == SequenceNumber(records.count))
                #expect(info.recordCount == UInt64(records.count))
            }
            #expect(total == 100)
        }
    }

    @Test func relaxedDurabilitySyncsEveryCommitWithinItsInterval() async throws {
        var configuration = LogConfiguration.twoStreams
        configuration.durability = .relaxed(syncInterval: .milliseconds(20))
        try await withLog(configuration: configuration) { storage, _ in
            // Idle: the writer's wait times out and it syncs what it committed.
            _ = try await storage.append(event("idle"))
            try await eventually("an idle writer syncs its commits") {
                storage.writerStatistics.syncedCommits == storage.writerStatistics.commits
            }
            // Busy: appends never leave it idle for an interval, and it syncs all the same.
            let busy = Task {
                var index = 0
                while !Task.isCancelled {
                    _ = try await storage.append(event("busy-\(index)"))
                    index += 1
                }
            }
            let synced = storage.writerStatistics.syncedCommits
            try await eventually("a busy writer syncs every interval") {
                storage.writerStatistics.syncedCommits > synced + 1
            }
            busy.cancel()
            _ = try? await busy.value
        }
    }

    @Test func strictDurabilityCountsEveryCommitAsSynced() async throws {
        try await withLog { storage, _ in
            for index in 0..<5 { _ = try await storage.append(event("key-\(index)")) }
            let statistics = storage.writerStatistics
            #expect(statistics.commits == 5)
            #expect(statistics.syncedCommits == statistics.commits)
        }
    }

    @Test func noAppendIsAcknowledgedBeforeTheSyncThatMakesItDurable() async throws {
        var configuration = LogConfiguration.twoStreams
        configuration.maxBatchSize = 8
        try await TemporaryDirectory.with { directory in
            let storage = try LMDBStorage(directory: directory.path, configuration: configuration)
            defer { storage.close() }
            let trace = Mutex<[WriterEvent]>([])
            storage.writer?.events.set { event in trace.withLock { $0.append(event) } }
            // A burst: more writers wait than a commit takes, so each commit is covered by the
            // next one's sync.
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 0..<400 {
                    group.addTask { _ = try await storage.append(event("burst-\(index)")) }
                }
                try await group.waitForAll()
            }
            // Writers in a loop: each commit holds them all and is synced on its own.
            try await withThrowingTaskGroup(of: Void.self) { group in
                for appender in 0..<8 {
                    group.addTask {
                        for index in 0..<20 {
                            _ = try await storage.append(event("loop-\(appender)-\(index)"))
                        }
                    }
                }
                try await group.waitForAll()
            }
            // A commit syncs its pages before writing its meta page unsynced, so it is durable
            // once a later commit has returned (that one's page sync carried the meta page)
            // or once a sync of its own has.
            var durableThrough: UInt64 = 0
            var lastCommitted: UInt64 = 0
            var acknowledged: [UInt64] = []
            var coveredByALaterCommit = 0
            var syncedOnTheirOwn = 0
            for event in trace.withLock({ $0 }) {
                switch event {
                case .committed(let number):
                    durableThrough = lastCommitted
                    lastCommitted = number
                case .synced(let through):
                    #expect(through == lastCommitted)
                    durableThrough = through
                    syncedOnTheirOwn += 1
                case .acknowledged(let number):
                    #expect(
                        number <= durableThrough, "commit \(number) acknowledged before a sync covered it")
                    if number < lastCommitted { coveredByALaterCommit += 1 }
                    acknowledged.append(number)
                }
            }
            #expect(acknowledged == Array(1...lastCommitted))
            #expect(storage.writerStatistics.appendedRecords == 560)
            #expect(coveredByALaterCommit > 0)
            #expect(syncedOnTheirOwn > 0)
        }
    }

    @Test func anAppendWhoseSyncFailsIsUnconfirmedAndNotShownToReaders() async throws {
        try await TemporaryDirectory.with { directory in
            let storage = try LMDBStorage(directory: directory.path, configuration: .twoStreams)
            defer { storage.close() }
            _ = try await storage.append(event("durable"))
            // Once the next commit has returned (its pages synced, its meta page written), the
            // data file's descriptor is pointed at /dev/null, where the sync that would make
            // that meta page durable fails (EINVAL).
            let descriptor = storage.environment.fileDescriptor
            let broken = Mutex(false)
            storage.writer?.events.set { event in
                guard case .committed = event else { return }
                broken.withLock { broken in
                    guard !broken else { return }
                    let null = open("/dev/null", O_WRONLY)
                    dup2(null, descriptor)
                    close(null)
                    broken = true
                }
            }
            do {
                let result = try await storage.append(event("unconfirmed"))
                Issue.record("acknowledged without a sync: \(result.record.seq)")
            } catch let error as EventLogError {
                guard case .unconfirmed(let reason) = error else {
                    Issue.record("expected unconfirmed, got \(error)")
                    return
                }
                #expect(reason.contains("sync"))
            }
            #expect(broken.withLock { $0 })
            var shown: [Record] = []
            for shard in try storage.descriptor(.chatEvents).shards {
                shown += try await allRecords(storage, shard)
            }
            #expect(shown.map(\.partitionKey) == ["durable"])
        }
    }

    @Test(arguments: TestBackend.allCases) func aPartitionKeyAlwaysLandsInTheSameShard(
        on backend: TestBackend
    ) async throws {
        try await withLog(on: backend) { storage, _ in
            let first = try await storage.append(event("channel-a"))
            let second = try await storage.append(event("channel-a"))
            #expect(first.record.shard == second.record.shard)
            #expect(second.record.seq == first.record.seq + 1)
            #expect(
                first.record.shard
                    == Partitioner.shard(
                        for: "channel-a", shardCount: try storage.descriptor(.chatEvents).shardCount))
        }
    }

    @Test(arguments: TestBackend.allCases) func channelRecordsGetContiguousChannelSequenceNumbers(
        on backend: TestBackend
    ) async throws {
        try await withLog(on: backend) { storage, _ in
            for index in 0..<10 {
                _ = try await storage.append(message("c1", "a\(index)"))
                _ = try await storage.append(message("c2", "b\(index)"))
            }
            let records = try await storage.channelRecords(
                stream: .chatEvents, channelID: "c1", after: 0, limit: 100)
            #expect(records.map(\.channelSeq) == (1...10).map { SequenceNumber($0) })
            #expect(records.allSatisfy { $0.channelID == "c1" })
            #expect(try await storage.channelHead(stream: .chatEvents, channelID: "c2") == 10)
            let tail = try await storage.channelRecords(
                stream: .chatEvents, channelID: "c2", after: 7, limit: 100)
            #expect(tail.map(\.channelSeq) == [8, 9, 10])
            #expect(
                tail.map(\.payloadText) == ["{\"text\":\"b7\"}", "{\"text\":\"b8\"}", "{\"text\":\"b9\"}"])
        }
    }

    @Test(arguments: TestBackend.allCases) func storedRecordsReadBackExactly(on backend: TestBackend)
        async throws
    {
        try await withLog(on: backend) { storage, _ in
            let cause = try await storage.append(message("c1", "question"))
            var request = message("c1", "answer", key: "reply-1")
            request.actor = "agent"
            request.causationID = cause.record.id
            let appended = try await storage.append(request)
            let read = try await #require(try storage.record(at: appended.record.position))
            #expect(read == appended.record)
            #expect(read.causationID == cause.record.id)
            #expect(read.idempotencyKey == "reply-1")
            #expect(read.createdAt >= cause.record.createdAt)
            #expect(read.id > cause.record.id)
        }
    }

    @Test(arguments: TestBackend.allCases) func appendIsIdempotentForRepeatedKey(on backend: TestBackend)
        async throws
    {
        try await withLog(on: backend) { storage, _ in
            let first = try await storage.append(message("c1", "hello", key: "k1"))
            let again = try await storage.append(message("c1", "hello", key: "k1"))
            #expect(!first.isDuplicate)
            #expect(again.isDuplicate)
            #expect(again.record == first.record)
            #expect(try await storage.channelHead(stream: .chatEvents, channelID: "c1") == 1)
            // Within one group commit the second use of a key sees the first.
            let batch = try await storage.append([
                message("c1", "x", key: "k2"), message("c1", "x", key: "k2"),
            ])
            #expect(batch[1].isDuplicate && batch[1].record == batch[0].record)
            #expect(try await storage.channelHead(stream: .chatEvents, channelID: "c1") == 2)
        }
    }

    @Test func anExpiredIdempotencyKeyAppendsAgainAndRetentionForgetsIt() async throws {
        let clock = ManualClock()
        try await withLog(clock: clock) { storage, _ in
            let first = try await storage.append(message("c1", "hi", key: "k", ttl: .seconds(60)))
            clock.advance(by: .seconds(30))
            #expect(try await storage.append(message("c1", "hi", key: "k", ttl: .seconds(60))).isDuplicate)
            clock.advance(by: .seconds(31))
            let report = try await storage.enforceRetention(now: clock.now())
            #expect(report.expiredIdempotencyKeys == 1)
            let second = try await storage.append(message("c1", "hi", key: "k", ttl: .seconds(60)))
            #expect(!second.isDuplicate)
            #expect(second.record.channelSeq == first.record.channelSeq! + 1)
            #expect(try storage.verify().isSound)
        }
    }

    @Test(arguments: TestBackend.allCases) func invalidRequestsAreRefusedAndWriteNothing(
        on backend: TestBackend
    ) async throws {
        var configuration = LogConfiguration.twoStreams
        configuration.maxPayloadBytes = 1000
        try await withLog(on: backend, configuration: configuration) { storage, _ in
            await #expect(throws: EventLogError.unknownStream("nope")) {
                _ = try await storage.append(event("k", stream: "nope"))
            }
            await #expect(throws: EventLogError.self) {
                _ = try await storage.append(event("k", bytes: 2000))
            }
            await #expect(throws: EventLogError.self) { _ = try await storage.append(event("")) }
            await #expect(throws: EventLogError.self) { _ = try await storage.append(event("a\0b")) }
            var mismatched = message("c1", "x")
            mismatched.partitionKey = "other"
            await #expect(throws: EventLogError.self) { _ = try await storage.append(mismatched) }
            // A batch with one bad request appends none of it.
            await #expect(throws: EventLogError.self) {
                _ = try await storage.append([message("c1", "ok"), event("k", bytes: 2000)])
            }
            for shard in try storage.descriptor(.chatEvents).shards {
                #expect(try await storage.shardInfo(shard).head == 0)
            }
            #expect(try await storage.channelHead(stream: .chatEvents, channelID: "c1") == 0)
        }
    }

    @Test(arguments: TestBackend.allCases) func groupCommitKeepsEveryAppendUniqueContiguousAndInOrder(
        on backend: TestBackend
    ) async throws {
        try await withLog(on: backend) { storage, _ in
            let appenders = 200
            let perAppender = 50
            let results = try await withThrowingTaskGroup(of: [AppendResult].self) { group in
                for appender in 0..<appenders {
                    group.addTask {
                        var results: [AppendResult] = []
                        for _ in 0..<perAppender {
                            results.append(try await storage.append(message("channel-\(appender % 20)", "m")))
                        }
                        return results
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            // Each appender's records are in its own order.
            for appenderResults in results {
                let seqs = appenderResults.map(\.record.seq)
                #expect(seqs == seqs.sorted())
                #expect(Set(seqs).count == seqs.count)
            }
            let all = results.flatMap { $0 }
            #expect(all.count == appenders * perAppender)
            #expect(Set(all.map(\.record.position)).count == all.count)
            var stored = 0
            for shard in try storage.descriptor(.chatEvents).shards {
                let records = try await allRecords(storage, shard)
                #expect(records.enumerated().allSatisfy { $0.element.seq == SequenceNumber($0.offset + 1) })
                stored += records.count
            }
            #expect(stored == all.count)
            for channel in 0..<20 {
                let records = try await storage.channelRecords(
                    stream: .chatEvents, channelID: "channel-\(channel)", after: 0, limit: 10_000)
                #expect(records.map(\.channelSeq!) == (1...SequenceNumber(records.count)).map { $0 })
            }
            #expect(try storage.verify().isSound)
        }
    }
}
