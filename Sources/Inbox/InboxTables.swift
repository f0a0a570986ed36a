import EventLog
import Foundation

/// The inbox projection's tables and keys. Pending events are indexed four ways — all, by
/// source, by type, by both — each ordered by (createdAt, eventId), so a filtered page is read
/// straight from its index and is full whenever enough matching events exist.
enum InboxTables {
    /// eventId → `InboxEvent` (JSON).
    static let events = "inbox.events"
    /// order key → nothing.
    static let pending = "inbox.pending"
    /// source, NUL, order key → nothing.
    static let pendingBySource = "inbox.pending_by_source"
    /// eventType, NUL, order key → nothing.
    static let pendingByType = "inbox.pending_by_type"
    /// source, NUL, eventType, NUL, order key → nothing.
    static let pendingBySourceAndType = "inbox.pending_by_source_type"

    static let all = [events, pending, pendingBySource, pendingByType, pendingBySourceAndType]

    /// The order key: createdAt in microseconds (big-endian), then the event id.
    static func orderKey(createdAt: Timestamp, eventID: String) -> [UInt8] {
        withUnsafeBytes(of: UInt64(bitPattern: createdAt.microseconds).bigEndian) { Array($0) }
            + Array(eventID.utf8)
    }

    /// The event id at the end of an index key.
    static func eventID(fromIndexKey key: [UInt8]) -> String {
        String(decoding: key.suffix(36), as: UTF8.self)
    }

    /// The index a filter reads and the prefix its keys share.
    static func index(for filter: InboxFilter) -> (table: String, prefix: [UInt8]) {
        switch (filter.source, filter.eventType) {
        case (nil, nil): (pending, [])
        case (let source?, nil): (pendingBySource, Array(source.utf8) + [0])
        case (nil, let type?): (pendingByType, Array(type.utf8) + [0])
        case (let source?, let type?):
            (pendingBySourceAndType, Array(source.utf8) + [0] + Array(type.utf8) + [0])
        }
    }

    /// Every index entry of a pending event.
    static func indexEntries(of event: InboxEvent, createdAt: Timestamp) -> [(String, [UInt8])] {
        let order = orderKey(createdAt: createdAt, eventID: event.eventId)
        let filters = [
            InboxFilter(), InboxFilter(source: event.source), InboxFilter(eventType: event.eventType),
            InboxFilter(source: event.source, eventType: event.eventType),
        ]
        return filters.map { filter in
            let (table, prefix) = index(for: filter)
            return (table, prefix + order)
        }
    }

    static func encode(_ event: InboxEvent) throws -> [UInt8] {
        Array(try JSONEncoder().encode(event))
    }

    static func decode(_ bytes: [UInt8]) throws -> InboxEvent {
        try JSONDecoder().decode(InboxEvent.self, from: Data(bytes))
    }
}
