import ChatlogTestSupport
import Testing

@testable import EventLog
@testable import EventLogLMDB

@Suite(.timeLimit(.minutes(1))) struct IteratorTests {
    /// Appends `count` records to one shard and returns the shard.
    private func fill(_ storage: any LogBackend, count: Int, clock: ManualClock? = nil) async throws
        -> ShardKey
    {
        var shard: ShardKey?
        for _ in 0..<count {
            shard = try await storage.append(event("only-key")).record.position.shardKey
            clock?.advance(by: .seconds(1))
        }
        return shard!
    }

    @Test func everyIteratorTypeStartsWhereItSays() async throws {
        let clock = ManualClock()
        try await withLog(clock: clock) { storage, _ in
            let log = EventLog(storage: storage, clock: clock)
            let start = clock.now()
            let shard = try await fill(storage, count: 10, clock: clock)
            func firstSeq(_ type: ShardIteratorType) async throws -> SequenceNumber? {
                try await log.getRecords(try await log.shardIterator(shard, type: type), limit: 1).records
                    .first?.seq
            }
            #expect(try await firstSeq(.trimHorizon) == 1)
            #expect(try await firstSeq(.latest) == nil)
            #expect(try await firstSeq(.atSequenceNumber(4)) == 4)
            #expect(try await firstSeq(.afterSequenceNumber(4)) == 5)
            #expect(try await firstSeq(.afterSequenceNumber(0)) == 1)
            #expect(try await firstSeq(.atTimestamp(start.adding(.seconds(3)))) == 4)
            #expect(try await firstSeq(.atTimestamp(start.adding(.milliseconds(2500)))) == 4)
            #expect(try await firstSeq(.atTimestamp(start.adding(.seconds(100)))) == nil)
            #expect(try await firstSeq(.atTimestamp(start.adding(.seconds(-100)))) == 1)
        }
    }

    @Test func iteratingContinuesExactlyWhereThePageEnded() async throws {
        try await withLog { storage, _ in
            let log = EventLog(storage: storage)
            let shard = try await fill(storage, count: 25)
            let latest = try await log.shardIterator(shard, type: .latest)
            var iterator = try await log.shardIterator(shard, type: .trimHorizon)
            var seen: [SequenceNumber] = []
            while true {
                let page = try await log.getRecords(token: iterator.token, limit: 7)
                if page.records.isEmpty { break }
                seen += page.records.map(\.seq)
                iterator = page.nextIterator
            }
            #expect(seen == (1...25).map { SequenceNumber($0) })
            // LATEST taken before new appends sees exactly them.
            _ = try await fill(storage, count: 3)
            #expect(try await log.getRecords(latest).records.map(\.seq) == [26, 27, 28])
        }
    }

    @Test func aPageStopsAtOneMebibyte() async throws {
        try await withLog { storage, _ in
            let log = EventLog(storage: storage)
            var shard: ShardKey?
            for _ in 0..<30 {
                shard = try await storage.append(event("k", bytes: 100_000)).record.position.shardKey
            }
            let page = try await log.getRecords(
                try await log.shardIterator(shard!, type: .trimHorizon), limit: 1000)
            #expect(page.records.count == 10)
            #expect(page.behindHead == 20)
        }
    }

    @Test func eachFailureHasItsOwnError() async throws {
        let clock = ManualClock()
        var configuration = LogConfiguration.twoStreams
        configuration.streams = [
            StreamConfiguration(name: .chatEvents, shardCount: 2, retention: Retention(maxAge: .seconds(5)))
        ]
        try await withLog(configuration: configuration, clock: clock) { storage, _ in
            let log = EventLog(storage: storage, iteratorLifetime: .seconds(60), clock: clock)
            let shard = try await fill(storage, count: 10, clock: clock)
            await #expect(throws: EventLogError.unknownStream("nope")) {
                _ = try await log.shardIterator(ShardKey(stream: "nope", shard: 0), type: .latest)
            }
            await #expect(throws: EventLogError.unknownShard(.chatEvents, 2)) {
                _ = try await log.shardIterator(ShardKey(stream: .chatEvents, shard: 2), type: .latest)
            }
            await #expect(
                throws: EventLogError.invalidArgument(
                    "sequence number 12 is past the head 10 of chat_events/\(shard.shard)")
            ) {
                _ = try await log.shardIterator(shard, type: .atSequenceNumber(12))
            }
            await #expect(throws: EventLogError.malformedIterator("not base64url")) {
                _ = try await log.getRecords(token: "%%%")
            }
            let token = try await log.shardIterator(shard, type: .trimHorizon).token
            var tampered = Array(token.utf8)
            tampered[10] = tampered[10] == UInt8(ascii: "A") ? UInt8(ascii: "B") : UInt8(ascii: "A")
            await #expect(throws: EventLogError.malformedIterator("checksum mismatch")) {
                _ = try await log.getRecords(token: String(decoding: tampered, as: UTF8.self))
            }
            await #expect(throws: EventLogError.malformedIterator("too short")) {
                _ = try await log.getRecords(token: "AAAA")
            }
            await #expect(throws: EventLogError.invalidArgument("limit must be 1 to 1000")) {
                _ = try await log.getRecords(token: token, limit: 1001)
            }
            let old = try await log.shardIterator(shard, type: .trimHorizon)
            clock.advance(by: .seconds(61))
            await #expect(throws: EventLogError.expiredIterator(issuedAt: old.issuedAt)) {
                _ = try await log.getRecords(old)
            }
            // Retention trims everything older than five seconds: seq 1...10 are 61+ seconds old.
            _ = try await storage.enforceRetention(now: clock.now())
            let trimmed = try await log.shardIterator(shard, type: .latest)
            #expect(trimmed.nextSeq == 11)
            let stale = ShardIterator(shard: shard, nextSeq: 3, issuedAt: clock.now())
            await #expect(
                throws: EventLogError.trimmedPosition(
                    Position(stream: .chatEvents, shard: shard.shard, seq: 3), firstAvailable: 11)
            ) {
                _ = try await log.getRecords(stale)
            }
            await #expect(throws: EventLogError.self) {
                _ = try await log.shardIterator(shard, type: .atSequenceNumber(2))
            }
        }
    }

    @Test func tokensRoundTrip() throws {
        let iterator = ShardIterator(
            shard: ShardKey(stream: .triggers, shard: 3), nextSeq: 1 << 40,
            issuedAt: Timestamp(microseconds: 1_234_567))
        #expect(try ShardIterator(token: iterator.token) == iterator)
        #expect(!iterator.token.contains("="))
    }
}
