import EventLog
import Foundation
import LMDB
import LogBackends

/// Builds (or reuses) a large log, then measures a full scan with envelopes decoded and
/// checksums checked, a raw cursor walk over the same pages, and the time to open the log.
struct OpenAndScanBenchmark {
    let workload: LogWorkload
    let directory: String
    let records: Int

    func run(into report: inout BenchReport) async throws {
        try await build()
        // The raw walk first: it also brings the file into the page cache, so neither timed
        // scan of ours pays for reading the disk.
        try rawScan(into: &report)
        try await scan(into: &report)
        try await open(into: &report)
    }

    private func build() async throws {
        let storage = try LogBackends.open(directory: directory, configuration: .chatlog)
        defer { storage.close() }
        let existing = try await storage.shardInfos(storage.streams.flatMap(\.shards)).reduce(0) {
            $0 + Int($1.recordCount)
        }
        guard existing < records else { return }
        let batch = 1000
        let started = ContinuousClock.now
        var appended = existing
        while appended < records {
            let size = min(batch * 4, records - appended)
            let offset = appended
            try await withThrowingTaskGroup(of: Void.self) { group in
                for start in stride(from: 0, to: size, by: batch) {
                    group.addTask {
                        let requests = (start..<min(start + batch, size)).map {
                            workload.request(offset + $0)
                        }
                        _ = try await storage.append(requests)
                    }
                }
                try await group.waitForAll()
            }
            appended += size
            if appended % 1_000_000 < size || appended == records {
                let rate = Double(appended - existing) / ((ContinuousClock.now - started) / .seconds(1))
                Console.progress(
                    String(format: "building: %d of %d records (%.0f records/s)", appended, records, rate))
            }
        }
        Console.endProgress()
    }

    /// Reads every shard to its end with envelopes decoded and checksums checked: first one reader
    /// shard after shard, then one reader per shard at once, as a consumer group reads.
    private func scan(into report: inout BenchReport) async throws {
        // Each pass opens the log afresh, so each maps its pages itself.
        var storage = try LogBackends.open(directory: directory, configuration: .chatlog, readOnly: true)
        let shards = storage.streams.flatMap(\.shards)
        var started = ContinuousClock.now
        var count = 0
        for shard in shards { count += try await Self.scan(shard, of: storage) }
        let oneReader = Double(count) / ((ContinuousClock.now - started) / .seconds(1))
        storage.close()
        storage = try LogBackends.open(directory: directory, configuration: .chatlog, readOnly: true)
        defer { storage.close() }
        started = ContinuousClock.now
        count = try await withThrowingTaskGroup(of: Int.self) { [storage] group in
            for shard in shards { group.addTask { try await Self.scan(shard, of: storage) } }
            return try await group.reduce(0, +)
        }
        let perShard = Double(count) / ((ContinuousClock.now - started) / .seconds(1))
        report.add(
            String(
                format:
                    "scan      %d records, envelopes decoded and checksums checked: %10.0f records/s one reader per shard (%d shards), %.0f records/s one reader",
                count, perShard, shards.count, oneReader),
            key: "scan",
            .object([
                ("records", .int(Int64(count))), ("recordsPerSecond", .double(perShard.rounded())),
                ("shards", .int(Int64(shards.count))),
                ("oneReaderRecordsPerSecond", .double(oneReader.rounded())),
            ]))
    }

    private static func scan(_ shard: ShardKey, of storage: any LogBackend) async throws -> Int {
        var after: SequenceNumber = 0
        var count = 0
        var payloadBytes = 0
        while true {
            let page = try await storage.loadNext(shard, after: after, limit: 1000, maxBytes: 16 << 20)
            guard let last = page.last else { break }
            count += page.count
            payloadBytes += page.reduce(0) { $0 + $1.payload.count }
            after = last.seq
        }
        precondition(payloadBytes > 0 || count == 0)
        return count
    }

    private func rawScan(into report: inout BenchReport) throws {
        var options = Environment.Options()
        options.readOnly = true
        let path = (LogBackends.dataFile(directory: directory) as NSString).deletingLastPathComponent
        let environment = try Environment(path: path, options: options)
        defer { environment.close() }
        let started = ContinuousClock.now
        let (count, bytes) = try environment.read { transaction in
            var count = 0
            var bytes = 0
            for shard in 0..<4 {
                let database = try transaction.openDatabase("records/chat_events/\(shard)")
                try transaction.withCursor(database) { cursor in
                    var entry = try cursor.first()
                    while let (_, value) = entry {
                        count += 1
                        bytes &+= Int(value[value.count - 1])
                        entry = try cursor.next()
                    }
                }
            }
            return (count, bytes)
        }
        let rate = Double(count) / ((ContinuousClock.now - started) / .seconds(1))
        report.add(
            String(
                format: "raw scan  %d records, LMDB cursor, no copy:              %10.0f records/s", count,
                rate),
            key: "rawScan",
            .object([
                ("records", .int(Int64(count))), ("recordsPerSecond", .double(rate.rounded())),
                ("checksum", .int(Int64(bytes))),
            ]))
    }

    private func open(into report: inout BenchReport) async throws {
        var times: [Double] = []
        var size = 0
        for _ in 0..<7 {
            let started = ContinuousClock.now
            let storage = try LogBackends.open(directory: directory, configuration: .chatlog)
            let head = try await storage.shardInfo(ShardKey(stream: .chatEvents, shard: 0)).head
            times.append((ContinuousClock.now - started) / .milliseconds(1))
            size = try storage.statistics().fileSize
            storage.close()
            precondition(head > 0)
        }
        times.sort()
        let median = times[times.count / 2]
        report.add(
            String(
                format:
                    "open      %d records (%.1f GiB file): median %.2f ms, max %.2f ms over %d opens (page cache warm)",
                records, Double(size) / Double(1 << 30), median, times.last!, times.count),
            key: "open",
            .object([
                ("records", .int(Int64(records))), ("fileBytes", .int(Int64(size))),
                ("medianMilliseconds", .double(median)), ("maxMilliseconds", .double(times.last!)),
            ]))
    }
}
