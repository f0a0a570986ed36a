import EventLog
import JSONCoding

/// The events `triggers` records change, keyed by `eventId`, with their images before and
/// after, for readers of the log as a DynamoDB stream. An image before a change is folded from
/// the event's own records, which the `inbox.origins` table locates; later records of the same
/// event in a run read in order use what the run knows.
package struct InboxItemChanges {
    private var known: [String: ItemChange.Image?] = [:]
    private let storage: any LogStorage

    package init(storage: any LogStorage) {
        self.storage = storage
    }

    /// What `record` did; records must come in the log's order.
    package mutating func change(for record: Record) async throws -> ItemChange? {
        guard record.stream == .triggers else { return nil }
        let kind: ItemChange.Kind
        switch record.type {
        case InboxRecordType.created: kind = .insert
        case InboxRecordType.acknowledged: kind = .modify
        case InboxRecordType.deleted: kind = .remove
        default: return nil
        }
        let eventID = record.partitionKey
        if kind != .insert, known[eventID] == nil {
            known[eventID] = .some(try await fold(eventID, before: record))
        }
        let old = kind == .insert ? nil : known[eventID] ?? nil
        let new = Self.applied(record, to: old)
        known[eventID] = .some(new)
        return ItemChange(kind: kind, keys: ["eventId": .string(eventID)], oldImage: old, newImage: new)
    }

    /// The event just before `record`, from its created and acknowledged records.
    private func fold(_ eventID: String, before record: Record) async throws -> ItemChange.Image? {
        let origin = try storage.readProjections { try $0.get(InboxTables.origins, key: Array(eventID.utf8)) }
        guard let origin, origin.count == 16 else { return nil }
        let (created, acknowledged): (UInt64, UInt64) = origin.withUnsafeBytes {
            (BigEndian.read($0, at: 0), BigEndian.read($0, at: 8))
        }
        var image: ItemChange.Image?
        for seq in [created, acknowledged] where seq != 0 && seq < record.seq {
            guard
                let earlier = try await storage.record(
                    at: Position(stream: .triggers, shard: record.shard, seq: seq))
            else { return nil }
            image = Self.applied(earlier, to: image)
        }
        return image
    }

    static func applied(_ record: Record, to old: ItemChange.Image?) -> ItemChange.Image? {
        switch record.type {
        case InboxRecordType.created:
            guard let created = try? EventCreatedPayload(json: record.payload) else { return nil }
            var metadata: [String: JSONValue] = ["priority": .string(created.metadata.priority.rawValue)]
            metadata["correlationId"] = created.metadata.correlationId.map(JSONValue.string)
            metadata["idempotencyKey"] = created.metadata.idempotencyKey.map(JSONValue.string)
            return [
                "eventId": .string(created.eventId), "source": .string(created.source),
                "eventType": .string(created.eventType), "payload": created.payload,
                "metadata": .object(metadata),
                "status": .string(InboxEvent.Status.pending.rawValue),
                "createdAt": .string(record.createdAt.rfc3339),
            ]
        case InboxRecordType.acknowledged:
            guard var image = old else { return nil }
            image["status"] = .string(InboxEvent.Status.acknowledged.rawValue)
            image["acknowledgedAt"] = .string(record.createdAt.rfc3339)
            return image
        default:
            return nil
        }
    }
}
