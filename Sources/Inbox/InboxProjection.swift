import EventLog
import Foundation

/// Folds `triggers` into the inbox: events by id and the pending indexes. Retention's trim of
/// an `event.created` record forgets the event: that is how events expire.
public struct InboxProjection: Projection {
    public init() {}

    public var tables: [String] { InboxTables.all }

    /// An acknowledgement needs a pending event, a delete an existing one.
    public func admit(_ request: AppendRequest, given store: any ProjectionStore) throws {
        guard request.stream == .triggers,
            request.type == InboxRecordType.acknowledged || request.type == InboxRecordType.deleted
        else { return }
        let eventID = request.partitionKey
        guard let event = try Self.stored(eventID, in: store) else {
            throw InboxError.notFound("event \(eventID) not found")
        }
        guard request.type == InboxRecordType.deleted || event.status == .pending else {
            throw InboxError.conflict("event \(eventID) is already acknowledged")
        }
    }

    public func apply(_ record: Record, to store: any ProjectionStore) throws {
        guard record.stream == .triggers else { return }
        switch record.type {
        case InboxRecordType.created:
            let stored = StoredEvent(
                status: .pending, createdAt: record.createdAt, acknowledgedAt: nil, created: record.payload)
            let keys = try stored.keys()
            try store.put(InboxTables.events, key: Array(keys.eventId.utf8), value: stored.encoded)
            for (table, key) in InboxTables.indexEntries(of: keys, createdAt: record.createdAt) {
                try store.put(table, key: key, value: [])
            }
            try store.put(
                InboxTables.origins, key: Array(keys.eventId.utf8),
                value: BigEndian.bytes(record.seq) + BigEndian.bytes(UInt64(0)))
        case InboxRecordType.acknowledged:
            guard var stored = try Self.stored(record.partitionKey, in: store), stored.status == .pending
            else {
                return
            }
            try Self.removeFromIndexes(stored, in: store)
            stored.status = .acknowledged
            stored.acknowledgedAt = record.createdAt
            try store.put(InboxTables.events, key: Array(record.partitionKey.utf8), value: stored.encoded)
            let key = Array(record.partitionKey.utf8)
            if let origin = try store.get(InboxTables.origins, key: key), origin.count == 16 {
                try store.put(
                    InboxTables.origins, key: key,
                    value: Array(origin.prefix(8)) + BigEndian.bytes(record.seq))
            }
        case InboxRecordType.deleted:
            try forget(record.partitionKey, in: store)
        default:
            return
        }
    }

    public func trimmed(_ record: Record, from store: any ProjectionStore) throws {
        guard record.stream == .triggers, record.type == InboxRecordType.created else { return }
        try forget(record.partitionKey, in: store)
        try store.delete(InboxTables.origins, key: Array(record.partitionKey.utf8))
    }

    private func forget(_ eventID: String, in store: any ProjectionStore) throws {
        guard let stored = try Self.stored(eventID, in: store) else { return }
        if stored.status == .pending { try Self.removeFromIndexes(stored, in: store) }
        try store.delete(InboxTables.events, key: Array(eventID.utf8))
    }

    static func stored(_ eventID: String, in store: any ProjectionStore) throws -> StoredEvent? {
        try store.get(InboxTables.events, key: Array(eventID.utf8)).flatMap(StoredEvent.init)
    }

    static func event(_ eventID: String, in store: any ProjectionStore) throws -> InboxEvent? {
        try stored(eventID, in: store)?.event()
    }

    private static func removeFromIndexes(_ stored: StoredEvent, in store: any ProjectionStore) throws {
        for (table, key) in InboxTables.indexEntries(of: try stored.keys(), createdAt: stored.createdAt) {
            try store.delete(table, key: key)
        }
    }
}
