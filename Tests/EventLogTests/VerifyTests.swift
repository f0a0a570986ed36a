import ChatlogTestSupport
import LMDB
import Testing

@testable import EventLog
@testable import EventLogLMDB

/// `verify` must find each kind of damage a crash, a bug or a bad disk could leave.
@Suite(.timeLimit(.minutes(1))) struct VerifyTests {
    /// Builds a small sound log, lets `damage` change its LMDB files directly, and verifies.
    private func verifyAfter(
        records: Int = 5, _ damage: (Transaction, ShardKey) throws -> Void
    ) async throws -> VerifyReport {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        var shard: ShardKey?
        do {
            let storage = try LMDBStorage(directory: directory.path, configuration: .twoStreams)
            defer { storage.close() }
            for index in 0..<records {
                shard = try await storage.append(message("c1", "m\(index)", key: "k\(index)")).record.position
                    .shardKey
            }
            #expect(try storage.verify().isSound)
        }
        do {
            let environment = try Environment(path: LMDBStorage.environmentPath(directory.path))
            defer { environment.close() }
            try environment.write { transaction in try damage(transaction, shard!) }
        }
        let storage = try LMDBStorage(directory: directory.path, configuration: .twoStreams)
        defer { storage.close() }
        return try storage.verify()
    }

    private func records(_ transaction: Transaction, _ shard: ShardKey) throws -> Database {
        try transaction.openDatabase(StorageTables.recordsName(shard))
    }

    @Test func aFlippedByteFailsTheChecksum() async throws {
        let report = try await verifyAfter { transaction, shard in
            let database = try records(transaction, shard)
            var value = try #require(try transaction.get(database, key: StorageKeys.sequence(3)))
            value[value.count - 3] ^= 0x20
            try transaction.put(database, key: StorageKeys.sequence(3), value: value)
        }
        // The undecodable record also leaves a hole in its channel; the checksum is named first.
        #expect(report.violations.first?.check == "checksum")
        #expect(report.violations.first?.location.hasSuffix("/3") == true)
    }

    @Test func aMissingRecordIsAGap() async throws {
        let report = try await verifyAfter { transaction, shard in
            try transaction.delete(try records(transaction, shard), key: StorageKeys.sequence(2))
        }
        let checks = Set(report.violations.map(\.check))
        #expect(checks.contains("sequence"))
        #expect(checks.contains("channel_sequence"))
        #expect(checks.contains("counters"))
        #expect(checks.contains("index"))
    }

    @Test func aMissingChannelLinkIsFound() async throws {
        let report = try await verifyAfter { transaction, shard in
            let links = try transaction.openDatabase(StorageTables.channelLinksName)
            // Channel c1's records are seqs 1...5 of its shard: without 4's link, 3 is unreachable.
            #expect(
                try transaction.delete(
                    links, key: StorageKeys.channelLink(stream: .chatEvents, shard: shard.shard, seq: 4)))
        }
        #expect(report.violations.map(\.check) == ["index"])
        #expect(report.violations.first?.message.contains("no link") == true)
    }

    @Test func aMissingAnchorAndAStrayChannelIndexEntryAreFound() async throws {
        let report = try await verifyAfter(records: 70) { transaction, shard in
            let index = try transaction.openDatabase("channel_index")
            #expect(
                try transaction.delete(
                    index, key: StorageKeys.channelIndex(stream: .chatEvents, channelID: "c1", channelSeq: 64)
                ))
            try transaction.put(
                index, key: StorageKeys.channelIndex(stream: .chatEvents, channelID: "c1", channelSeq: 3),
                value: StoredPosition(shard: shard.shard, seq: 5).bytes)
        }
        #expect(report.violations.map(\.check) == ["index", "index", "index"])
        #expect(report.violations.contains { $0.message.contains("no entry for this anchor") })
    }

    @Test func aWrongChannelHeadIsFound() async throws {
        let report = try await verifyAfter { transaction, _ in
            let heads = try transaction.openDatabase("channel_heads")
            try transaction.put(
                heads, key: StorageKeys.channelHead(stream: .chatEvents, channelID: "c1"),
                value: BigEndian.bytes(UInt64(9)))
        }
        #expect(report.violations.map(\.check) == ["index"])
    }

    @Test func aChannelHeadPointingAtAnotherRecordIsFound() async throws {
        let report = try await verifyAfter { transaction, shard in
            let heads = try transaction.openDatabase("channel_heads")
            // The right channelSeq, but not where c1's last record is (seq 5 of its shard).
            let head = ChannelHead(channelSeq: 5, position: StoredPosition(shard: shard.shard, seq: 3))
            try transaction.put(
                heads, key: StorageKeys.channelHead(stream: .chatEvents, channelID: "c1"),
                value: head.withBytes { Array($0) })
        }
        #expect(report.violations.map(\.check) == ["index"])
        #expect(report.violations.first?.message.contains("channel head points to") == true)
    }

    @Test func aCheckpointPastTheHeadIsFound() async throws {
        let report = try await verifyAfter { transaction, shard in
            let checkpoints = try transaction.openDatabase("checkpoints")
            try transaction.put(
                checkpoints, key: StorageKeys.checkpoint(group: "agent", shard: shard),
                value: BigEndian.bytes(UInt64(99)) + BigEndian.bytes(Int64(0)))
        }
        #expect(report.violations.map(\.check) == ["checkpoint"])
    }

    @Test func aStrayIdempotencyEntryIsFound() async throws {
        let report = try await verifyAfter { transaction, shard in
            let idempotency = try transaction.openDatabase("idempotency")
            try transaction.put(
                idempotency, key: StorageKeys.idempotency(stream: .chatEvents, key: "k1"),
                value: StoredPosition(shard: shard.shard, seq: 4).bytes)
        }
        #expect(report.violations.map(\.check) == ["index"])
    }
}
