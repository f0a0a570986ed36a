import JSONCoding

/// The record types the inbox appends to `triggers`; each is partitioned by its event id.
enum InboxRecordType {
    static let created = "event.created"
    static let acknowledged = "event.acknowledged"
    static let deleted = "event.deleted"
}

/// The payload of `event.created`. Written and read by hand (`JSONText`, `JSONParser`): the
/// inbox's ingest path reads it three times per event, where `Codable` cost more than the write.
struct EventCreatedPayload: Equatable {
    var eventId: String
    var source: String
    var eventType: String
    var payload: JSONValue
    var metadata: EventMetadata

    /// A stored payload that is not this shape: the log holds something the inbox did not write.
    struct Malformed: Error, CustomStringConvertible {
        var field: String
        var description: String { "event.created payload: \(field) is missing or of the wrong type" }
    }

    init(eventId: String, source: String, eventType: String, payload: JSONValue, metadata: EventMetadata) {
        self.eventId = eventId
        self.source = source
        self.eventType = eventType
        self.payload = payload
        self.metadata = metadata
    }

    init(json bytes: [UInt8]) throws {
        guard case .object(let members) = try JSONParser.parse(bytes) else {
            throw Malformed(field: "the payload")
        }
        func string(_ name: String, in members: [String: JSONValue]) throws -> String {
            guard case .string(let text) = members[name] else { throw Malformed(field: name) }
            return text
        }
        func optionalString(_ name: String, in members: [String: JSONValue]) throws -> String? {
            switch members[name] {
            case nil, .null: return nil
            case .string(let text): return text
            default: throw Malformed(field: "metadata.\(name)")
            }
        }
        guard let payload = members["payload"] else { throw Malformed(field: "payload") }
        guard case .object(let metadata) = members["metadata"],
            let priority = EventMetadata.Priority(rawValue: try string("priority", in: metadata))
        else { throw Malformed(field: "metadata") }
        self.init(
            eventId: try string("eventId", in: members), source: try string("source", in: members),
            eventType: try string("eventType", in: members), payload: payload,
            metadata: EventMetadata(
                correlationId: try optionalString("correlationId", in: metadata), priority: priority,
                idempotencyKey: try optionalString("idempotencyKey", in: metadata)))
    }

    var json: [UInt8] {
        var json = JSONText(capacity: 256)
        json.object { object in
            object.field("eventId", eventId)
            object.field("source", source)
            object.field("eventType", eventType)
            object.field("payload", payload)
            object.field("metadata", metadata)
        }
        return json.bytes
    }
}

extension EventMetadata: JSONWritable {
    package func write(to json: inout JSONText) {
        json.object { object in
            object.field("correlationId", correlationId)
            object.field("priority", priority.rawValue)
            object.field("idempotencyKey", idempotencyKey)
        }
    }
}

/// The payload of `event.acknowledged` and `event.deleted`.
enum EventReferencePayload {
    static func json(eventId: String) -> [UInt8] {
        var json = JSONText(capacity: 64)
        json.object { $0.field("eventId", eventId) }
        return json.bytes
    }
}
