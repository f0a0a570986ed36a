import EventLog
import Foundation
import Histogram
import LogBackends

/// Durable appends from N concurrent tasks, each waiting for its acknowledgement before the next.
struct AppendBenchmark {
    let storage: any LogStorage & LogMaintenance
    let workload: LogWorkload
    let seconds: Double

    /// What one concurrency level reached.
    struct Figures {
        var appenders: Int
        var recordsPerSecond: Double
        var latency: Histogram<UInt64>
        var commitsPerSecond: Double
        var recordsPerCommit: Double
        var syncsPerCommit: Double

        var line: String {
            String(
                format:
                    "append    appenders=%-4d %10.0f records/s  p50 %6d µs  p99 %6d µs  %8.0f commits/s  %6.1f records/commit  %4.2f syncs/commit",
                appenders, recordsPerSecond, latency.valueAtPercentile(50), latency.valueAtPercentile(99),
                commitsPerSecond, recordsPerCommit, syncsPerCommit)
        }

        var json: [(String, JSONOutput)] {
            [
                ("appenders", .int(Int64(appenders))),
                ("recordsPerSecond", .double(recordsPerSecond.rounded())),
                ("p50Microseconds", .uint(latency.valueAtPercentile(50))),
                ("p99Microseconds", .uint(latency.valueAtPercentile(99))),
                ("commitsPerSecond", .double(commitsPerSecond.rounded())),
                ("recordsPerCommit", .double((recordsPerCommit * 10).rounded() / 10)),
                ("syncsPerCommit", .double((syncsPerCommit * 100).rounded() / 100)),
            ]
        }
    }

    func measure(appenders: Int) async throws -> Figures {
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
        return Figures(
            appenders: appenders, recordsPerSecond: records / elapsed, latency: latency,
            commitsPerSecond: commits / elapsed, recordsPerCommit: records / max(commits, 1),
            syncsPerCommit: Double(after.syncs - before.syncs) / max(commits, 1))
    }
}
