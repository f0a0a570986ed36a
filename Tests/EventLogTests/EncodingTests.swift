import ChatlogTestSupport
import Testing

@testable import EventLog
@testable import EventLogLMDB

@Suite(.timeLimit(.minutes(1))) struct EncodingTests {
    @Test func recordsSurviveEncodingWithEveryOptionalField() throws {
        let time = Timestamp(rfc3339: "2026-03-04T05:06:07.123456Z")!
        let full = Record(
            id: RecordID(time: time, random: 42), stream: .chatEvents, shard: 3, seq: 1 << 33,
            type: "message.created", partitionKey: "chan", channelID: "chan", channelSeq: 17, actor: "agent",
            createdAt: time, idempotencyKey: "reply:x", causationID: RecordID(time: time, random: 7),
            payload: Array("{\"text\":\"héllo\"}".utf8))
        #expect(try RecordCodec.encode(full).withUnsafeBytes { try RecordCodec.decode($0) } == full)
        var bare = full
        bare.channelID = nil
        bare.channelSeq = nil
        bare.idempotencyKey = nil
        bare.causationID = nil
        bare.payload = []
        #expect(try RecordCodec.encode(bare).withUnsafeBytes { try RecordCodec.decode($0) } == bare)
    }

    @Test func damagedBytesAreRefused() throws {
        var bytes = RecordCodec.encode(
            Record(
                id: RecordID(high: 1, low: 2), stream: .triggers, shard: 0, seq: 1, type: "t",
                partitionKey: "p",
                channelID: nil, channelSeq: nil, actor: "a", createdAt: Timestamp(microseconds: 0),
                idempotencyKey: nil, causationID: nil, payload: [1, 2, 3]))
        bytes[bytes.count - 1] ^= 1
        #expect(throws: RecordCodec.DecodingError.self) {
            try bytes.withUnsafeBytes { try RecordCodec.decode($0) }
        }
        #expect(throws: RecordCodec.DecodingError.truncated(10)) {
            try Array(bytes[0..<10]).withUnsafeBytes { try RecordCodec.decode($0) }
        }
    }

    @Test func crc32cMatchesTheStandardCheckValue() {
        // The check value of CRC-32C over "123456789" (RFC 3720).
        #expect(Array("123456789".utf8).withUnsafeBytes { CRC32C.checksum($0) } == 0xE306_9283)
    }

    @Test func timestampsPrintAndParseRFC3339WithMicroseconds() {
        let text = "2026-01-01T12:00:00.123456Z"
        let time = Timestamp(rfc3339: text)
        #expect(time?.rfc3339 == text)
        #expect(Timestamp(rfc3339: "1970-01-01T00:00:00Z")?.microseconds == 0)
        #expect(Timestamp(rfc3339: "2026-01-01T13:00:00.5+01:00")?.rfc3339 == "2026-01-01T12:00:00.500000Z")
        #expect(Timestamp(rfc3339: "1969-12-31T23:59:59.999999Z")?.microseconds == -1)
        #expect(Timestamp(rfc3339: "2024-02-29T00:00:00Z")?.rfc3339 == "2024-02-29T00:00:00.000000Z")
        #expect(Timestamp(rfc3339: "2026-13-01T00:00:00Z") == nil)
        #expect(Timestamp(rfc3339: "yesterday") == nil)
        #expect(Timestamp(rfc3339: "2026-01-01T00:00:00") == nil)
    }

    @Test func recordIDsAreVersion7AndRoundTrip() {
        let time = Timestamp(rfc3339: "2026-01-01T12:00:00.123456Z")!
        let id = RecordID(time: time, random: 0xDEAD_BEEF)
        let text = id.description
        #expect(text.count == 36)
        #expect(text == text.lowercased())
        #expect(Array(text)[14] == "7")
        #expect(RecordID(text) == id)
        #expect(RecordID(text.uppercased()) == id)
        #expect(RecordID("not-a-uuid") == nil)
        #expect(RecordID(time: time.adding(.microseconds(1)), random: 0) > id)
    }

    @Test func partitioningIsStable() {
        // Fixed values: changing the hash would move existing channels to other shards.
        #expect(
            Partitioner.shard(for: "general", shardCount: 4)
                == Partitioner.shard(for: "general", shardCount: 4))
        let spread = Set((0..<100).map { Partitioner.shard(for: "channel-\($0)", shardCount: 4) })
        #expect(spread == [0, 1, 2, 3])
    }
}
