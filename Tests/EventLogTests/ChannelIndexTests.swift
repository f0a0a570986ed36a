import ChatlogTestSupport
import LMDB
import Testing

@testable import EventLog
@testable import EventLogLMDB

/// A channel's records are found through sparse anchors in the channel index and the links
/// each record keeps to the one before it: every read position, page size, trim and older
/// (densely indexed) log must give the same contiguous records.
@Suite(.timeLimit(.minutes(1))) struct ChannelIndexTests {
    private let perChannel = 150
    private let channels = ["c1", "c2", "c3"]

    /// Appends `perChannel` records to each channel, interleaved, starting at channelSeq `from`.
    private func fill(_ storage: any LogBackend, from: Int = 1) async throws {
        for index in from...perChannel {
            for channel in channels { _ = try await storage.append(message(channel, "\(channel)-\(index)")) }
        }
    }

    /// Reads every channel from many positions with many page sizes and checks each page.
    private func expectContiguousReads(_ storage: any LogBackend, firstKept: [String: Int] = [:]) async throws
    {
        for channel in channels {
            let firstKept = firstKept[channel] ?? 1
            for after in [0, 1, 2, 62, 63, 64, 65, 100, 127, 128, 129, 149, 150] {
                for limit in [1, 7, 64, 1000] {
                    let records = try await storage.channelRecords(
                        stream: .chatEvents, channelID: channel, after: SequenceNumber(after), limit: limit)
                    let first = max(after + 1, firstKept)
                    let last = min(first + limit - 1, perChannel)
                    let expected = first <= last ? (first...last).map { SequenceNumber($0) } : []
                    #expect(
                        records.map(\.channelSeq!) == expected, "\(channel) after \(after) limit \(limit)")
                    #expect(records.allSatisfy { $0.channelID == channel })
                    #expect(records.map(\.payloadText) == expected.map { "{\"text\":\"\(channel)-\($0)\"}" })
                }
            }
        }
    }

    @Test func readsFromAnyPositionWalkTheLinksBetweenAnchors() async throws {
        try await withLog { storage, _ in
            try await fill(storage)
            try await expectContiguousReads(storage)
            let stats = try storage.statistics()
            // Two anchors (64 and 128) per channel, not one entry per record.
            #expect(stats.channelIndexEntries == 2 * channels.count)
            #expect(try storage.verify().isSound)
        }
    }

    @Test func trimmedRecordsAreSkippedAndTheRestStayContiguous() async throws {
        var configuration = LogConfiguration.twoStreams
        configuration.streams = [
            StreamConfiguration(
                name: .chatEvents, shardCount: 1,
                retention: Retention(maxBytesPerShard: 30_000, trimUnprocessed: true))
        ]
        try await withLog(configuration: configuration) { storage, _ in
            try await fill(storage)
            let report = try await storage.enforceRetention(now: .now())
            #expect(report.totalTrimmed > 0)
            // Channels interleave in one shard: each keeps a suffix of its records.
            var firstKept: [String: Int] = [:]
            for record in try await allRecords(storage, ShardKey(stream: .chatEvents, shard: 0)).reversed() {
                firstKept[record.channelID!] = Int(record.channelSeq!)
            }
            #expect(firstKept.values.allSatisfy { $0 > 1 })
            try await expectContiguousReads(storage, firstKept: firstKept)
            #expect(try storage.verify().isSound)
        }
    }

    /// A filled log, closed and then changed directly in LMDB by `edit`, which also gets every
    /// record of the channels; returns its directory.
    private func filledLog(
        editedBy edit: (Transaction, [Record]) throws -> Void
    ) async throws -> TemporaryDirectory {
        let directory = try TemporaryDirectory()
        do {
            let storage = try LMDBStorage(directory: directory.path, configuration: .twoStreams)
            try await fill(storage)
            let all = try channels.flatMap { channel in
                try storage.channelRecords(stream: .chatEvents, channelID: channel, after: 0, limit: 1000)
            }
            storage.close()
            let environment = try Environment(path: LMDBStorage.environmentPath(directory.path))
            defer { environment.close() }
            try environment.write { try edit($0, all) }
            return directory
        } catch {
            directory.remove()
            throw error
        }
    }

    @Test func aLogIndexedDenselyBeforeTheLinksReadsAndGrowsSoundly() async throws {
        // Rewritten as an older version left it: an index entry for every record, heads holding
        // the channelSeq alone, and no links.
        let directory = try await filledLog { transaction, all in
            let index = try transaction.openDatabase("channel_index")
            let heads = try transaction.openDatabase("channel_heads")
            try transaction.clear(try transaction.openDatabase(StorageTables.channelLinksName))
            for record in all {
                try transaction.put(
                    index,
                    key: StorageKeys.channelIndex(
                        stream: .chatEvents, channelID: record.channelID!, channelSeq: record.channelSeq!),
                    value: StoredPosition(shard: record.shard, seq: record.seq).bytes)
            }
            for channel in channels {
                try transaction.put(
                    heads, key: StorageKeys.channelHead(stream: .chatEvents, channelID: channel),
                    value: BigEndian.bytes(UInt64(perChannel)))
            }
        }
        defer { directory.remove() }
        let reopened = try LMDBStorage(directory: directory.path, configuration: .twoStreams)
        defer { reopened.close() }
        try await expectContiguousReads(reopened)
        #expect(try reopened.verify().isSound)
        // New records link to the old ones: reads across the boundary stay contiguous.
        for index in 1...70 {
            for channel in channels { _ = try await reopened.append(message(channel, "new-\(index)")) }
        }
        for channel in channels {
            let records = try reopened.channelRecords(
                stream: .chatEvents, channelID: channel, after: 140, limit: 1000)
            #expect(records.map(\.channelSeq!) == (141...220).map { SequenceNumber($0) })
        }
        #expect(try reopened.verify().isSound)
    }

    @Test func aMalformedChannelHeadRefusesThatChannelsAppendsAndWritesNothing() async throws {
        let directory = try await filledLog { transaction, _ in
            try transaction.put(
                try transaction.openDatabase("channel_heads"),
                key: StorageKeys.channelHead(stream: .chatEvents, channelID: "c1"), value: [1, 2, 3, 4, 5])
        }
        defer { directory.remove() }
        let storage = try LMDBStorage(directory: directory.path, configuration: .twoStreams)
        defer { storage.close() }
        let heads = try storage.descriptor(.chatEvents).shards.map { try storage.shardInfo($0).head }
        await #expect {
            _ = try await storage.append(message("c1", "refused"))
        } throws: { error in
            guard case EventLogError.storage(let reason) = error else { return false }
            return reason.contains("head of channel c1 is malformed")
        }
        #expect(try storage.descriptor(.chatEvents).shards.map { try storage.shardInfo($0).head } == heads)
        let other = try await storage.append(message("c2", "still taken")).record
        #expect(other.channelSeq == SequenceNumber(perChannel + 1))
    }
}
