import EventLog
import Foundation
import Histogram
import LogBackends

/// Durable appends from N concurrent tasks, each waiting for its acknowledgement before the next.
struct AppendBenchmark {
    let workload: LogWorkload
    let directory: String
    let seconds: Double

    func run(levels: [Int], into report: inout BenchReport) async throws {
        let storage = try LogBackends.open(directory: directory, configuration: .chatlog)
        defer { storage.close() }
        var results: [JSONOutput] = []
        for appenders in levels {
            let before = storage.writerStatistics
            let started = ContinuousClock.now
            let deadline = started + .milliseconds(Int(seconds * 1000))
            let histograms = try await withThrowingTaskGroup(of: Histogram<UInt64>.self) { group in
                for appender in 0..<appenders {
                    group.addTask {
                        var histogram = Histogram<UInt64>(highestTrackableValue: 60_000_000)
                        var index = appender
                        while ContinuousClock.now < deadline {
                            let start = ContinuousClock.now
                            _ = try await storage.append(workload.request(index))
                            _ = histogram.record(UInt64((ContinuousClock.now - start) / .microseconds(1)))
                            index += appenders
                        }
                        return histogram
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            let elapsed = (ContinuousClock.now - started) / .seconds(1)
            var latency = Histogram<UInt64>(highestTrackableValue: 60_000_000)
            for histogram in histograms { latency.add(histogram) }
            let after = storage.writerStatistics
            let records = Double(after.appendedRecords - before.appendedRecords)
            let commits = Double(after.commits - before.commits)
            let rate = records / elapsed
            let p50 = latency.valueAtPercentile(50)
            let p99 = latency.valueAtPercentile(99)
            report.note(
                String(
                    format:
                        "append    appenders=%-4d %10.0f records/s  p50 %6d µs  p99 %6d µs  %8.0f commits/s  %7.1f records/commit",
                    appenders, rate, p50, p99, commits / elapsed, records / max(commits, 1)))
            results.append(
                .object([
                    ("appenders", .int(Int64(appenders))), ("recordsPerSecond", .double(rate.rounded())),
                    ("p50Microseconds", .uint(p50)), ("p99Microseconds", .uint(p99)),
                    ("commitsPerSecond", .double(commits / elapsed)),
                    ("recordsPerCommit", .double(records / max(commits, 1))),
                    ("records", .double(records)),
                ]))
        }
        report.add(nil, key: "append", .array(results))
    }
}
