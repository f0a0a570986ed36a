import EventLog
import Foundation
import JSONCoding

/// The event inbox on the `triggers` stream: every change is one record, which the log admits
/// by the inbox's rules (`InboxProjection.admit`) against the state it follows, so of two
/// concurrent acks exactly one wins; every read comes from the projection.
public struct InboxService: Sendable {
    public let log: any LogStorage

    /// The most events one page holds.
    public static let maxLimit = 100

    public init(log: any LogStorage) {
        self.log = log
    }

    /// An event as posted.
    public struct NewEvent: Sendable {
        public var source: String
        public var eventType: String
        public var payload: JSONValue
        public var metadata: EventMetadata

        public init(source: String, eventType: String, payload: JSONValue, metadata: EventMetadata) {
            self.source = source
            self.eventType = eventType
            self.payload = payload
            self.metadata = metadata
        }
    }

    /// The most events one batch holds.
    public static let maxBatch = 500

    /// Appends an `event.created` record. A repeated idempotency key (per poster) returns the
    /// original event and appends nothing.
    public func post(_ new: NewEvent, by poster: String) async throws -> PostedEvent {
        let prepared = try prepare(new, by: poster, eventID: RandomUUID.makeTimeOrdered(at: .now()))
        return try posted(prepared, try await log.append(prepared.request))
    }

    /// Appends the valid events of a batch in one commit and answers for each entry, in order:
    /// an entry that is not a valid event (or failed before it got here) is refused with its
    /// reason and writes nothing; the others are posted as `post` would post them one by one.
    public func post(
        batch: [Result<NewEvent, InboxError>], by poster: String
    ) async throws -> [Result<PostedEvent, InboxError>] {
        guard (1...Self.maxBatch).contains(batch.count) else {
            throw InboxError.invalidRequest(
                "a batch holds 1 to \(Self.maxBatch) events", details: ["field": "events"])
        }
        // Ids in entry order: the inbox lists events by time, then id, and a batch's events
        // may share a time.
        let now = Timestamp.now()
        var eventIDs = batch.map { _ in RandomUUID.makeTimeOrdered(at: now) }.sorted()[...]
        let checked = batch.map { entry in
            let eventID = eventIDs.removeFirst()
            return entry.flatMap { new in
                Result { () throws(InboxError) in try prepare(new, by: poster, eventID: eventID) }
            }
        }
        let valid = checked.compactMap { try? $0.get() }
        var results = valid.isEmpty ? [] : try await log.append(valid.map(\.request))[...]
        return try checked.map { entry in
            switch entry {
            case .failure(let error):
                return .failure(error)
            case .success(let prepared):
                do {
                    return .success(try posted(prepared, results.removeFirst()))
                } catch let error as InboxError {
                    return .failure(error)
                }
            }
        }
    }

    /// An event checked and turned into the record that creates it.
    private struct PreparedEvent {
        var eventID: String
        var new: NewEvent
        var request: AppendRequest
    }

    private func prepare(_ new: NewEvent, by poster: String, eventID: String) throws(InboxError)
        -> PreparedEvent
    {
        try Self.validateName(new.source, field: "source")
        try Self.validateName(new.eventType, field: "eventType")
        guard case .object = new.payload else {
            throw InboxError.invalidRequest("payload must be a JSON object", details: ["field": "payload"])
        }
        for (field, value) in [
            ("metadata.correlationId", new.metadata.correlationId),
            ("metadata.idempotencyKey", new.metadata.idempotencyKey),
        ] {
            if let value { try Self.validateName(value, field: field) }
        }
        let payload = EventCreatedPayload(
            eventId: eventID, source: new.source, eventType: new.eventType, payload: new.payload,
            metadata: new.metadata)
        return PreparedEvent(
            eventID: eventID, new: new,
            request: AppendRequest(
                stream: .triggers, partitionKey: eventID, type: InboxRecordType.created, actor: poster,
                idempotencyKey: new.metadata.idempotencyKey.map { "\(poster)/\($0)" },
                payload: payload.json))
    }

    /// The event an append of `prepared` made, or the original one its idempotency key named.
    private func posted(_ prepared: PreparedEvent, _ result: AppendResult) throws -> PostedEvent {
        if !result.isDuplicate {
            // Built from what was just committed rather than read back.
            let new = prepared.new
            return PostedEvent(
                event: InboxEvent(
                    eventId: prepared.eventID, source: new.source, eventType: new.eventType,
                    payload: new.payload, metadata: new.metadata, status: .pending,
                    createdAt: result.record.createdAt.rfc3339, acknowledgedAt: nil),
                created: true)
        }
        guard let event = try event(result.record.partitionKey) else {
            throw InboxError.conflict("the event first posted with this idempotency key was deleted")
        }
        return PostedEvent(event: event, created: false)
    }

    /// The event, in any status; nil when unknown or deleted.
    public func event(_ eventID: String) throws -> InboxEvent? {
        try log.readProjections { try InboxProjection.event(eventID, in: $0) }
    }

    /// Pending events matching the filter, oldest first, after the cursor.
    public func pending(filter: InboxFilter, limit: Int, cursor: String?) throws -> InboxPage {
        guard (1...Self.maxLimit).contains(limit) else {
            throw InboxError.invalidRequest(
                "limit must be 1 to \(Self.maxLimit)", details: ["parameter": "limit"])
        }
        let after = try cursor.map(InboxCursor.decode)
        let (table, prefix) = InboxTables.index(for: filter)
        return try log.readProjections { store in
            var ids: [String] = []
            let start = after.map { prefix + $0 + [0] }
            try store.scan(table, prefix: prefix, from: start, reverse: false) { key, _ in
                ids.append(InboxTables.eventID(fromIndexKey: key))
                return ids.count <= limit
            }
            let more = ids.count > limit
            let events = try ids.prefix(limit).compactMap { try InboxProjection.event($0, in: store) }
            let next = more ? events.last.flatMap(InboxCursor.encode) : nil
            return InboxPage(events: events, nextCursor: next)
        }
    }

    /// Appends `event.acknowledged` if the event is still pending (the inbox's rules say so).
    public func acknowledge(_ eventID: String, by poster: String) async throws -> InboxEvent {
        try Self.validateEventID(eventID)
        let result = try await log.append(
            AppendRequest(
                stream: .triggers, partitionKey: eventID, type: InboxRecordType.acknowledged, actor: poster,
                payload: EventReferencePayload.json(eventId: eventID)))
        // Read back from the projection; deleted in the meantime, it is still acknowledged.
        guard let current = try self.event(eventID) else {
            throw InboxError.notFound("event \(eventID) was deleted")
        }
        var event = current
        event.acknowledgedAt = event.acknowledgedAt ?? result.record.createdAt.rfc3339
        return event
    }

    /// Appends `event.deleted` when the event exists; deleting a missing event is no error.
    /// Returns whether there was one to delete.
    @discardableResult
    public func delete(_ eventID: String, by poster: String) async throws -> Bool {
        try Self.validateEventID(eventID)
        do {
            _ = try await log.append(
                AppendRequest(
                    stream: .triggers, partitionKey: eventID, type: InboxRecordType.deleted, actor: poster,
                    payload: EventReferencePayload.json(eventId: eventID)))
            return true
        } catch InboxError.notFound {
            return false
        }
    }

    static func validateEventID(_ eventID: String) throws(InboxError) {
        guard eventID.utf8.count == 36, UUID(uuidString: eventID) != nil, eventID == eventID.lowercased()
        else {
            throw .invalidRequest(
                "'\(eventID)' is not an event id (a lowercase UUID)", details: ["parameter": "eventId"])
        }
    }

    private static func validateName(_ value: String, field: String) throws(InboxError) {
        if let violation = InboxFields.name.violation(value, field: field) {
            throw .invalidRequest(violation, details: ["field": field])
        }
    }
}

/// What clients may send to the inbox, in one place: `InboxService` checks values against it
/// and the OpenAPI document publishes it.
package enum InboxFields {
    /// An event's source and type, and its metadata's correlation id and idempotency key.
    package static let name = TextRule(maxLength: 128)
}
