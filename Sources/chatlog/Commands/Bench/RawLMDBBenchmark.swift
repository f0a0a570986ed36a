import Foundation
import LMDB

/// Raw LMDB doing the storage part of an append — put a value of the same size under the next
/// key and commit with sync — as the yardstick for the log's own figures.
struct RawLMDBBenchmark {
    let valueBytes: Int
    let directory: String
    let seconds: Double

    func run(into report: inout BenchReport) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var options = Environment.Options()
        options.mapSize = 8 << 30
        let environment = try Environment(path: directory, options: options)
        defer { environment.close() }
        let database = try environment.write { transaction in
            let database = try transaction.openDatabase("raw", options: .create)
            try transaction.clear(database)
            return database
        }
        let value = [UInt8](repeating: 0x61, count: valueBytes)
        var next: UInt64 = 1
        var results: [(String, JSONOutput)] = []
        for perTransaction in [1, 16, 256, 1000] {
            let started = ContinuousClock.now
            let deadline = started + .milliseconds(Int(seconds * 1000))
            var written = 0
            while ContinuousClock.now < deadline {
                try environment.write { transaction in
                    for _ in 0..<perTransaction {
                        try withUnsafeBytes(of: next.bigEndian) { key in
                            try value.withUnsafeBytes {
                                try transaction.put(database, key: key, value: $0, options: .append)
                            }
                        }
                        next += 1
                    }
                }
                written += perTransaction
            }
            let rate = Double(written) / ((ContinuousClock.now - started) / .seconds(1))
            report.note(
                String(
                    format: "raw LMDB  %4d records per synced transaction: %10.0f records/s", perTransaction,
                    rate))
            results.append(("recordsPerSecondAt\(perTransaction)PerCommit", .double(rate.rounded())))
        }
        report.add(nil, key: "rawLMDB", .object(results + [("valueBytes", .int(Int64(valueBytes)))]))
    }
}
