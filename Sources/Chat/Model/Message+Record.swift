import EventLog
import Foundation

extension Message {
    /// The message a `message.created` record creates, as clients first see it.
    package init(created record: Record) throws {
        self.init(created: record, payload: try MessageCreatedPayload(json: record.payload))
    }

    /// The message a `message.created` record holds, its payload already decoded.
    init(created record: Record, payload created: MessageCreatedPayload) {
        self.init(
            id: record.id.description, channelId: record.channelID ?? record.partitionKey,
            seq: record.channelSeq ?? 0, senderId: record.actor, text: created.text,
            createdAt: record.createdAt.rfc3339, metadata: created.metadata, editedAt: nil, deleted: nil,
            replyTo: created.replyTo)
    }
}
