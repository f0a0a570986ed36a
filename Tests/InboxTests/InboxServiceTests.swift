import ChatlogTestSupport
import EventLog
import JSONCoding
import Testing

@testable import Inbox

/// The inbox straight over a real log, without HTTP.
@Suite(.timeLimit(.minutes(1))) struct InboxServiceTests {
    private func withInbox(_ body: (InboxService) async throws -> Void) async throws {
        try await withLog(
            configuration: LogConfiguration(streams: [.triggers]), projections: [InboxProjection()]
        ) { storage, _ in
            try await body(InboxService(log: storage))
        }
    }

    private func event(
        _ source: String = "billing", type: String = "invoice.paid", key: String? = nil
    ) -> InboxService.NewEvent {
        InboxService.NewEvent(
            source: source, eventType: type, payload: .object(["amount": .number(12)]),
            metadata: EventMetadata(idempotencyKey: key))
    }

    @Test func aRepeatedIdempotencyKeyReturnsTheOriginalForItsPosterOnly() async throws {
        try await withInbox { inbox in
            let first = try await inbox.post(event(key: "once"), by: "key-a")
            let again = try await inbox.post(event("other", key: "once"), by: "key-a")
            #expect(first.created && !again.created)
            #expect(again.event == first.event)
            let elsewhere = try await inbox.post(event(key: "once"), by: "key-b")
            #expect(elsewhere.created)
            #expect(elsewhere.event.eventId != first.event.eventId)
        }
    }

    @Test func pendingPagesOldestFirstWithFiltersAndCursors() async throws {
        try await withInbox { inbox in
            var ids: [String] = []
            for index in 0..<5 {
                ids.append(try await inbox.post(event(index % 2 == 0 ? "a" : "b"), by: "k").event.eventId)
            }
            let first = try inbox.pending(filter: InboxFilter(), limit: 2, cursor: nil)
            #expect(first.events.map(\.eventId) == Array(ids[0..<2]))
            let second = try inbox.pending(filter: InboxFilter(), limit: 2, cursor: first.nextCursor)
            #expect(second.events.map(\.eventId) == Array(ids[2..<4]))
            let fromA = try inbox.pending(filter: InboxFilter(source: "a"), limit: 100, cursor: nil)
            #expect(fromA.events.map(\.eventId) == [ids[0], ids[2], ids[4]])
            #expect(fromA.nextCursor == nil)
            #expect(throws: InboxError.self) {
                try inbox.pending(filter: InboxFilter(), limit: 0, cursor: nil)
            }
            #expect(throws: InboxError.self) {
                try inbox.pending(filter: InboxFilter(), limit: 10, cursor: "%%")
            }
        }
    }

    @Test func anEventIsAcknowledgedOnceAndDeletedIdempotently() async throws {
        try await withInbox { inbox in
            let id = try await inbox.post(event(), by: "k").event.eventId
            let acknowledged = try await inbox.acknowledge(id, by: "k")
            #expect(acknowledged.status == .acknowledged)
            #expect(acknowledged.acknowledgedAt != nil)
            await #expect(throws: InboxError.conflict("event \(id) is already acknowledged")) {
                _ = try await inbox.acknowledge(id, by: "k")
            }
            #expect(try inbox.pending(filter: InboxFilter(), limit: 10, cursor: nil).events.isEmpty)
            #expect(try await inbox.delete(id, by: "k"))
            #expect(try await !inbox.delete(id, by: "k"))
            await #expect(throws: InboxError.notFound("event \(id) not found")) {
                _ = try await inbox.acknowledge(id, by: "k")
            }
        }
    }

    @Test func ofConcurrentAcknowledgementsExactlyOneWins() async throws {
        try await withInbox { inbox in
            let id = try await inbox.post(event(), by: "k").event.eventId
            let outcomes = try await withThrowingTaskGroup(of: Bool.self) { group in
                for _ in 0..<8 {
                    group.addTask {
                        do {
                            _ = try await inbox.acknowledge(id, by: "k")
                            return true
                        } catch InboxError.conflict {
                            return false
                        }
                    }
                }
                return try await group.reduce(into: [Bool]()) { $0.append($1) }
            }
            #expect(outcomes.filter { $0 }.count == 1)
            let records = try await inbox.log.loadNext(
                ShardKey(stream: .triggers, shard: Partitioner.shard(for: id, shardCount: 4)), after: 0,
                limit: 100, maxBytes: 1 << 20)
            #expect(records.filter { $0.type == InboxRecordType.acknowledged }.count == 1)
        }
    }

    @Test func badInputIsRefusedAndWritesNothing() async throws {
        try await withInbox { (inbox: InboxService) async throws in
            var notAnObject = event()
            notAnObject.payload = .array([])
            await #expect(throws: InboxError.self) { _ = try await inbox.post(notAnObject, by: "k") }
            await #expect(throws: InboxError.self) { _ = try await inbox.post(event("bad\nsource"), by: "k") }
            await #expect(throws: InboxError.self) { _ = try await inbox.acknowledge("not-a-uuid", by: "k") }
            #expect(try inbox.pending(filter: InboxFilter(), limit: 10, cursor: nil).events.isEmpty)
        }
    }
}
