import EventLog
import Foundation
import JSONCoding

/// The inbox projection's tables and keys. Pending events are indexed four ways — all, by
/// source, by type, by both — each ordered by (createdAt, eventId), so a filtered page is read
/// straight from its index and is full whenever enough matching events exist.
enum InboxTables {
    /// eventId → `StoredEvent`.
    static let events = "inbox.events"
    /// order key → nothing.
    static let pending = "inbox.pending"
    /// source, NUL, order key → nothing.
    static let pendingBySource = "inbox.pending_by_source"
    /// eventType, NUL, order key → nothing.
    static let pendingByType = "inbox.pending_by_type"
    /// source, NUL, eventType, NUL, order key → nothing.
    static let pendingBySourceAndType = "inbox.pending_by_source_type"

    /// eventId → where its `event.created` and `event.acknowledged` records are (two
    /// big-endian sequence numbers, 0 for none), kept after a delete while the created record
    /// is: the DynamoDB Streams API folds an event's image before a change from them.
    static let origins = "inbox.origins"

    static let all = [events, pending, pendingBySource, pendingByType, pendingBySourceAndType, origins]

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
    static func indexEntries(of event: StoredEvent.Keys, createdAt: Timestamp) -> [(String, [UInt8])] {
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

}

/// An event as the projection keeps it: status and times in a fixed header, then its
/// `event.created` payload verbatim, so the writer folds an event without re-encoding it.
struct StoredEvent {
    var status: InboxEvent.Status
    var createdAt: Timestamp
    var acknowledgedAt: Timestamp?
    /// The `event.created` record's JSON payload.
    var created: [UInt8]

    /// The fields the indexes need.
    struct Keys {
        var eventId: String
        var source: String
        var eventType: String
    }

    var encoded: [UInt8] {
        var bytes: [UInt8] = [status == .pending ? 0 : 1]
        bytes.reserveCapacity(17 + created.count)
        for value in [createdAt.microseconds, acknowledgedAt?.microseconds ?? 0] {
            withUnsafeBytes(of: UInt64(bitPattern: value).bigEndian) { bytes.append(contentsOf: $0) }
        }
        return bytes + created
    }

    init(status: InboxEvent.Status, createdAt: Timestamp, acknowledgedAt: Timestamp?, created: [UInt8]) {
        self.status = status
        self.createdAt = createdAt
        self.acknowledgedAt = acknowledgedAt
        self.created = created
    }

    init?(_ bytes: [UInt8]) {
        guard bytes.count > 17 else { return nil }
        func time(at offset: Int) -> Int64 {
            Int64(bitPattern: bytes[offset..<(offset + 8)].reduce(UInt64(0)) { $0 << 8 | UInt64($1) })
        }
        status = bytes[0] == 0 ? .pending : .acknowledged
        createdAt = Timestamp(microseconds: time(at: 1))
        let acknowledged = time(at: 9)
        acknowledgedAt = acknowledged == 0 ? nil : Timestamp(microseconds: acknowledged)
        created = Array(bytes[17...])
    }

    /// Its id, source and type: the leading fields of the payload the inbox writes, read without
    /// the event's own payload after them (the writer runs this for every event it stores).
    /// Payloads written before `JSONText` (by `JSONEncoder`, in no set order) are parsed whole.
    func keys() throws -> Keys {
        let leading = try JSONParser.leadingMembers(of: created, count: 3)
        if leading.count == 3, leading[0].key == "eventId", leading[1].key == "source",
            leading[2].key == "eventType", case .string(let eventId) = leading[0].value,
            case .string(let source) = leading[1].value, case .string(let eventType) = leading[2].value
        {
            return Keys(eventId: eventId, source: source, eventType: eventType)
        }
        let payload = try EventCreatedPayload(json: created)
        return Keys(eventId: payload.eventId, source: payload.source, eventType: payload.eventType)
    }

    /// The event as clients see it.
    func event() throws -> InboxEvent {
        let payload = try EventCreatedPayload(json: created)
        return InboxEvent(
            eventId: payload.eventId, source: payload.source, eventType: payload.eventType,
            payload: payload.payload,
            metadata: payload.metadata, status: status, createdAt: createdAt.rfc3339,
            acknowledgedAt: acknowledgedAt?.rfc3339)
    }
}
