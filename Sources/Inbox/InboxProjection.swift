import EventLog
import Foundation

/// Folds `triggers` into the inbox: events by id and the pending indexes. Retention's trim of
/// an `event.created` record forgets the event: that is how events expire.
public struct InboxProjection: Projection {
    public init() {}

    public var tables: [String] { InboxTables.all }

    public func apply(_ record: Record, to store: any ProjectionStore) throws {
        guard record.stream == .triggers else { return }
        let decoder = JSONDecoder()
        switch record.type {
        case InboxRecordType.created:
            let created = try decoder.decode(EventCreatedPayload.self, from: Data(record.payload))
            let event = InboxEvent(
                eventId: created.eventId, source: created.source, eventType: created.eventType,
                payload: created.payload, metadata: created.metadata, status: .pending,
                createdAt: record.createdAt.rfc3339, acknowledgedAt: nil)
            try store.put(
                InboxTables.events, key: Array(event.eventId.utf8), value: try InboxTables.encode(event))
            for (table, key) in InboxTables.indexEntries(of: event, createdAt: record.createdAt) {
                try store.put(table, key: key, value: [])
            }
        case InboxRecordType.acknowledged:
            let reference = try decoder.decode(EventReferencePayload.self, from: Data(record.payload))
            guard var event = try Self.event(reference.eventId, in: store), event.status == .pending else {
                return
            }
            try Self.removeFromIndexes(event, in: store)
            event.status = .acknowledged
            event.acknowledgedAt = record.createdAt.rfc3339
            try store.put(
                InboxTables.events, key: Array(event.eventId.utf8), value: try InboxTables.encode(event))
        case InboxRecordType.deleted:
            let reference = try decoder.decode(EventReferencePayload.self, from: Data(record.payload))
            try forget(reference.eventId, in: store)
        default:
            return
        }
    }

    public func trimmed(_ record: Record, from store: any ProjectionStore) throws {
        guard record.stream == .triggers, record.type == InboxRecordType.created else { return }
        try forget(record.partitionKey, in: store)
    }

    private func forget(_ eventID: String, in store: any ProjectionStore) throws {
        guard let event = try Self.event(eventID, in: store) else { return }
        if event.status == .pending { try Self.removeFromIndexes(event, in: store) }
        try store.delete(InboxTables.events, key: Array(eventID.utf8))
    }

    static func event(_ eventID: String, in store: any ProjectionStore) throws -> InboxEvent? {
        try store.get(InboxTables.events, key: Array(eventID.utf8)).map(InboxTables.decode)
    }

    private static func removeFromIndexes(_ event: InboxEvent, in store: any ProjectionStore) throws {
        guard let createdAt = Timestamp(rfc3339: event.createdAt) else { return }
        for (table, key) in InboxTables.indexEntries(of: event, createdAt: createdAt) {
            try store.delete(table, key: key)
        }
    }
}
