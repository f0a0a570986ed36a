import Foundation
import Synchronization
import Testing

@testable import EventLog
@testable import EventLogLMDB

/// A fresh directory under the system's temporary directory, removed by `remove()`.
struct TemporaryDirectory {
    let path: String

    init() throws {
        path = NSTemporaryDirectory() + "chatlog-test-" + UUID().uuidString.lowercased()
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    func remove() {
        try? FileManager.default.removeItem(atPath: path)
    }
}

/// A clock the test moves by hand.
final class ManualClock: LogClock {
    private let current: Mutex<Timestamp>

    init(_ start: Timestamp = Timestamp(rfc3339: "2026-01-01T00:00:00Z")!) {
        current = Mutex(start)
    }

    func now() -> Timestamp { current.withLock { $0 } }

    func advance(by duration: Duration) {
        current.withLock { $0 = $0.adding(duration) }
    }
}

/// Opens a log in a new temporary directory, runs `body`, then closes and removes it.
func withLog<R>(
    configuration: LogConfiguration = LogConfiguration(), clock: any LogClock = SystemLogClock(),
    _ body: (LMDBStorage, TemporaryDirectory) async throws -> R
) async throws -> R {
    let directory = try TemporaryDirectory()
    defer { directory.remove() }
    let storage = try LMDBStorage(directory: directory.path, configuration: configuration, clock: clock)
    defer { storage.close() }
    return try await body(storage, directory)
}

func message(_ channel: String, _ text: String, key: String? = nil, ttl: Duration? = nil) -> AppendRequest {
    .channel(
        channel, type: "message.created", actor: "alice", idempotencyKey: key, idempotencyTTL: ttl,
        payload: Array("{\"text\":\"\(text)\"}".utf8))
}

func event(_ partitionKey: String, stream: StreamName = .chatEvents, bytes: Int = 200) -> AppendRequest {
    AppendRequest(
        stream: stream, partitionKey: partitionKey, type: "test.event", actor: "tester",
        payload: Array("{\"pad\":\"\(String(repeating: "x", count: max(0, bytes - 10)))\"}".utf8))
}

/// Every record of a shard, oldest first.
func allRecords(_ storage: LMDBStorage, _ shard: ShardKey) throws -> [Record] {
    var records: [Record] = []
    var after: SequenceNumber = 0
    while true {
        let page = try storage.loadNext(shard, after: after, limit: 1000, maxBytes: 1 << 20)
        guard let last = page.last else { return records }
        records += page
        after = last.seq
    }
}
