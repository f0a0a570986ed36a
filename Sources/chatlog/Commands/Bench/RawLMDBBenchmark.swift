import Foundation
import Histogram
import LMDB

/// Raw LMDB doing the storage part of an append — put values of the same size under the next
/// keys and commit with LMDB's default sync — as the yardstick for the log's own figures.
/// `measure(…, writeSet:)` also makes the writes a channel record makes besides itself, so that
/// its commits dirty the pages the log's do, without the log's code.
final class RawLMDBBenchmark {
    private let environment: Environment
    private let database: Database
    private let shardRecords: Database
    private let links: Database
    private let heads: Database
    private let meta: Database
    private let value: [UInt8]
    private let seconds: Double
    private var next: UInt64 = 1

    /// What each record's commit writes besides the record.
    enum WriteSet {
        /// The record alone, under the next key.
        case record
        /// As a log commit of channel records: the record under its shard's next key, a
        /// 16-byte link under the same key, its channel's head (one of `channels`, at random,
        /// 32 bytes), and each touched shard's counters once per commit.
        case channelRecord(channels: Int, shards: Int)

        var label: String {
            switch self {
            case .record: "records only"
            case .channelRecord: "log's write set"
            }
        }
    }

    /// What one batch size reached.
    struct Figures {
        var recordsPerCommit: Int
        var recordsPerSecond: Double
        /// Each synced commit's time.
        var latency: Histogram<UInt64>
        var writeSet = WriteSet.record.label

        var line: String {
            String(
                format:
                    "raw LMDB  %4d records per synced commit, %@:  %10.0f records/s  commit p50 %6d µs  p99 %6d µs",
                recordsPerCommit, writeSet, recordsPerSecond, latency.valueAtPercentile(50),
                latency.valueAtPercentile(99))
        }

        var json: [(String, JSONOutput)] {
            [
                ("writeSet", .string(writeSet)),
                ("recordsPerCommit", .int(Int64(recordsPerCommit))),
                ("recordsPerSecond", .double(recordsPerSecond.rounded())),
                ("commitP50Microseconds", .uint(latency.valueAtPercentile(50))),
                ("commitP99Microseconds", .uint(latency.valueAtPercentile(99))),
            ]
        }
    }

    init(valueBytes: Int, directory: String, seconds: Double) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var options = Environment.Options()
        options.mapSize = 8 << 30
        environment = try Environment(path: directory, options: options)
        (database, shardRecords, links, heads, meta) = try environment.write { transaction in
            (
                try transaction.openDatabase("raw", options: .create),
                try transaction.openDatabase("records", options: .create),
                try transaction.openDatabase("links", options: .create),
                try transaction.openDatabase("heads", options: .create),
                try transaction.openDatabase("meta", options: .create)
            )
        }
        value = [UInt8](repeating: 0x61, count: valueBytes)
        self.seconds = seconds
    }

    deinit { environment.close() }

    func measure(recordsPerCommit: Int, writeSet: WriteSet = .record) throws -> Figures {
        var latency = Histogram<UInt64>(highestTrackableValue: 60_000_000)
        let started = ContinuousClock.now
        let deadline = started + .milliseconds(Int(seconds * 1000))
        var written = 0
        let link = [UInt8](repeating: 0x6c, count: 16)
        let head = [UInt8](repeating: 0x68, count: 32)
        while ContinuousClock.now < deadline {
            let start = ContinuousClock.now
            try environment.write { transaction in
                guard case .channelRecord(let channels, let shards) = writeSet else {
                    for _ in 0..<recordsPerCommit {
                        try withUnsafeBytes(of: next.bigEndian) { key in
                            try value.withUnsafeBytes {
                                try transaction.put(database, key: key, value: $0, options: .append)
                            }
                        }
                        next += 1
                    }
                    return
                }
                var touched = Set<Int>()
                for _ in 0..<recordsPerCommit {
                    // Shard in the high byte: each shard's records and links grow at their end.
                    let shard = Int.random(in: 0..<shards)
                    touched.insert(shard)
                    let key = (UInt64(shard) << 56 | next).bigEndian
                    try withUnsafeBytes(of: key) { key in
                        try value.withUnsafeBytes { try transaction.put(shardRecords, key: key, value: $0) }
                        try link.withUnsafeBytes { try transaction.put(links, key: key, value: $0) }
                    }
                    let channel = Array("bench-channel-\(Int.random(in: 0..<channels))".utf8)
                    try channel.withUnsafeBytes { key in
                        try head.withUnsafeBytes { try transaction.put(heads, key: key, value: $0) }
                    }
                    next += 1
                }
                for shard in touched {
                    try withUnsafeBytes(of: UInt64(shard).bigEndian) { key in
                        try withUnsafeBytes(of: next) { try transaction.put(meta, key: key, value: $0) }
                    }
                }
            }
            _ = latency.record(UInt64((ContinuousClock.now - start) / .microseconds(1)))
            written += recordsPerCommit
        }
        let rate = Double(written) / ((ContinuousClock.now - started) / .seconds(1))
        return Figures(
            recordsPerCommit: recordsPerCommit, recordsPerSecond: rate, latency: latency,
            writeSet: writeSet.label)
    }
}
