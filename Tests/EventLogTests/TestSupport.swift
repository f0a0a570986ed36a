import ChatlogTestSupport
import Synchronization
import Testing

@testable import EventLog
@testable import EventLogLMDB

extension StreamName {
    static let chatEvents: StreamName = "chat_events"
    static let triggers: StreamName = "triggers"
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

func message(_ channel: String, _ text: String, key: String? = nil, ttl: Duration? = nil) -> AppendRequest {
    .channel(
        channel, type: "message.created", actor: "alice", stream: .chatEvents, idempotencyKey: key,
        idempotencyTTL: ttl,
        payload: Array("{\"text\":\"\(text)\"}".utf8))
}

func event(_ partitionKey: String, stream: StreamName = .chatEvents, bytes: Int = 200) -> AppendRequest {
    AppendRequest(
        stream: stream, partitionKey: partitionKey, type: "test.event", actor: "tester",
        payload: Array("{\"pad\":\"\(String(repeating: "x", count: max(0, bytes - 10)))\"}".utf8))
}

/// Every record of a shard, oldest first.
func allRecords(_ storage: any LogStorage, _ shard: ShardKey) async throws -> [Record] {
    var records: [Record] = []
    var after: SequenceNumber = 0
    while true {
        let page = try await storage.loadNext(shard, after: after, limit: 1000, maxBytes: 1 << 20)
        guard let last = page.last else { return records }
        records += page
        after = last.seq
    }
}
