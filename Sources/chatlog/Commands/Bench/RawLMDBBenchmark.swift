import Foundation
import Histogram
import LMDB

/// Raw LMDB doing the storage part of an append — put values of the same size under the next
/// keys and commit with LMDB's default sync — as the yardstick for the log's own figures.
final class RawLMDBBenchmark {
    private let environment: Environment
    private let database: Database
    private let value: [UInt8]
    private let seconds: Double
    private var next: UInt64 = 1

    /// What one batch size reached.
    struct Figures {
        var recordsPerCommit: Int
        var recordsPerSecond: Double
        /// Each synced commit's time.
        var latency: Histogram<UInt64>

        var line: String {
            String(
                format:
                    "raw LMDB  %4d records per synced commit:  %10.0f records/s  commit p50 %6d µs  p99 %6d µs",
                recordsPerCommit, recordsPerSecond, latency.valueAtPercentile(50),
                latency.valueAtPercentile(99))
        }

        var json: [(String, JSONOutput)] {
            [
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
        database = try environment.write { transaction in
            try transaction.openDatabase("raw", options: .create)
        }
        value = [UInt8](repeating: 0x61, count: valueBytes)
        self.seconds = seconds
    }

    deinit { environment.close() }

    func measure(recordsPerCommit: Int) throws -> Figures {
        var latency = Histogram<UInt64>(highestTrackableValue: 60_000_000)
        let started = ContinuousClock.now
        let deadline = started + .milliseconds(Int(seconds * 1000))
        var written = 0
        while ContinuousClock.now < deadline {
            let start = ContinuousClock.now
            try environment.write { transaction in
                for _ in 0..<recordsPerCommit {
                    try withUnsafeBytes(of: next.bigEndian) { key in
                        try value.withUnsafeBytes {
                            try transaction.put(database, key: key, value: $0, options: .append)
                        }
                    }
                    next += 1
                }
            }
            _ = latency.record(UInt64((ContinuousClock.now - start) / .microseconds(1)))
            written += recordsPerCommit
        }
        let rate = Double(written) / ((ContinuousClock.now - started) / .seconds(1))
        return Figures(recordsPerCommit: recordsPerCommit, recordsPerSecond: rate, latency: latency)
    }
}
