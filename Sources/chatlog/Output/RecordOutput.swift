import EventLog

/// How records appear on the command line: JSON objects and one-line summaries.
enum RecordOutput {
    static func json(_ record: Record) -> JSONOutput {
        .object([
            ("stream", .string(record.stream.rawValue)),
            ("shard", .int(Int64(record.shard))),
            ("seq", .uint(record.seq)),
            ("id", .string(record.id.description)),
            ("type", .string(record.type)),
            ("createdAt", .string(record.createdAt.rfc3339)),
            ("partitionKey", .string(record.partitionKey)),
            ("channelId", .optional(record.channelID)),
            ("channelSeq", .optional(record.channelSeq)),
            ("actor", .string(record.actor)),
            ("idempotencyKey", .optional(record.idempotencyKey)),
            ("causationId", .optional(record.causationID?.description)),
            ("payload", .embedded(record.payload)),
        ])
    }

    /// `2026-01-01T12:00:00.123456Z chat_events/2/17 message.created #general:5 alice {...}`
    static func line(_ record: Record) -> String {
        var parts = [record.createdAt.rfc3339, record.position.description, record.type]
        if let channelID = record.channelID, let channelSeq = record.channelSeq {
            parts.append("#\(channelID):\(channelSeq)")
        }
        parts.append(record.actor)
        parts.append(record.payloadText)
        return parts.joined(separator: " ")
    }
}
