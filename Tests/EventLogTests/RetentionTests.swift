import ChatlogTestSupport
import Testing

@testable import EventLog
@testable import EventLogLMDB

@Suite(.timeLimit(.minutes(1))) struct RetentionTests {
    private func configuration(_ retention: Retention) -> LogConfiguration {
        var configuration = LogConfiguration.twoStreams
        configuration.streams = [StreamConfiguration(name: .triggers, shardCount: 1, retention: retention)]
        return configuration
    }

    private let shard = ShardKey(stream: .triggers, shard: 0)

    @Test func ageRetentionTrimsOldRecordsButNotPastTheSlowestCheckpoint() async throws {
        let clock = ManualClock()
        try await withLog(configuration: configuration(Retention(maxAge: .seconds(100))), clock: clock) {
            storage, _ in
            for _ in 0..<10 {
                _ = try await storage.append(event("k", stream: .triggers))
                clock.advance(by: .seconds(60))
            }
            try await storage.setCheckpoint(3, group: "slow", shard: shard)
            try await storage.setCheckpoint(9, group: "fast", shard: shard)
            // Records 1...9 are older than 100 s; "slow" has processed only up to 3.
            var report = try await storage.enforceRetention(now: clock.now())
            #expect(report.trimmedRecords[shard] == 3)
            #expect(try await storage.shardInfo(shard).firstSeq == 4)
            try await storage.setCheckpoint(10, group: "slow", shard: shard)
            report = try await storage.enforceRetention(now: clock.now())
            // Seq n was appended at 60(n-1) s and it is now 600 s: 1...9 are past 100 s, but "fast"
            // holds the floor at 9.
            #expect(report.trimmedRecords[shard] == 6)
            let info = try await storage.shardInfo(shard)
            #expect(info.firstSeq == 10)
            #expect(info.recordCount == 1)
            #expect(try await allRecords(storage, shard).map(\.seq) == [10])
            #expect(try storage.verify().isSound)
        }
    }

    @Test func sizeRetentionKeepsTheShardUnderItsLimit() async throws {
        try await withLog(configuration: configuration(Retention(maxBytesPerShard: 10_000))) { storage, _ in
            for _ in 0..<100 { _ = try await storage.append(event("k", stream: .triggers, bytes: 500)) }
            _ = try await storage.enforceRetention(now: .now())
            let info = try await storage.shardInfo(shard)
            #expect(info.bytes <= 10_000)
            #expect(info.bytes > 10_000 - 700)
            #expect(info.head == 100)
            #expect(info.firstSeq == 100 - SequenceNumber(info.recordCount) + 1)
            #expect(try storage.verify().isSound)
        }
    }

    @Test func trimUnprocessedIgnoresCheckpoints() async throws {
        let retention = Retention(maxBytesPerShard: 1, trimUnprocessed: true)
        try await withLog(configuration: configuration(retention)) { storage, _ in
            for _ in 0..<5 { _ = try await storage.append(event("k", stream: .triggers)) }
            try await storage.setCheckpoint(0, group: "idle", shard: shard)
            _ = try await storage.enforceRetention(now: .now())
            let info = try await storage.shardInfo(shard)
            #expect(info.recordCount == 0)
            #expect(info.firstSeq == 6)
            #expect(try await storage.append(event("k", stream: .triggers)).record.seq == 6)
            #expect(try storage.verify().isSound)
        }
    }

    @Test func streamsWithoutRetentionKeepEverything() async throws {
        try await withLog { storage, _ in
            for _ in 0..<20 { _ = try await storage.append(message("c", "x")) }
            let report = try await storage.enforceRetention(
                now: Timestamp.now().adding(.seconds(86_400 * 365)))
            #expect(report.totalTrimmed == 0)
        }
    }

    @Test func checkpointsCannotPassTheHead() async throws {
        try await withLog { storage, _ in
            let shard = try await storage.append(event("k")).record.position.shardKey
            try await storage.setCheckpoint(1, group: "agent", shard: shard)
            #expect(try await storage.checkpoint(group: "agent", shard: shard) == 1)
            await #expect(throws: EventLogError.self) {
                try await storage.setCheckpoint(2, group: "agent", shard: shard)
            }
            #expect(try await storage.checkpoint(group: "agent", shard: shard) == 1)
            #expect(try await storage.checkpoints().map(\.group) == ["agent"])
        }
    }
}
