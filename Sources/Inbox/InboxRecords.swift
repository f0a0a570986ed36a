import Chat

/// The record types the inbox appends to `triggers`; each is partitioned by its event id.
enum InboxRecordType {
    static let created = "event.created"
    static let acknowledged = "event.acknowledged"
    static let deleted = "event.deleted"
}

struct EventCreatedPayload: Codable {
    var eventId: String
    var source: String
    var eventType: String
    var payload: JSONValue
    var metadata: EventMetadata
}

struct EventReferencePayload: Codable {
    var eventId: String
}
