import Chat
import Inbox
import JSONCoding

/// The inbox's response bodies, in the original triggers API's shapes.
extension InboxController {
    struct Created: JSONWritable {
        var event: InboxEvent
        var message: String
        var requestID: String

        func write(to json: inout JSONText) {
            json.object { object in
                object.field("eventId", event.eventId)
                object.field("createdAt", event.createdAt)
                object.field("status", event.status.rawValue)
                object.field("message", message)
                object.field("requestId", requestID)
            }
        }
    }

    /// A batch's answer: for each entry in order, the event it posted (or the one its
    /// idempotency key named) or why it was refused; `failedCount` counts the refused.
    struct BatchPosted: JSONWritable {
        var results: [Result<PostedEvent, InboxError>]
        var requestID: String

        func write(to json: inout JSONText) {
            json.object { object in
                object.field(
                    "failedCount",
                    UInt64(results.count { if case .failure = $0 { true } else { false } }))
                object.field("results", array: results) { json, result in
                    json.object { entry in
                        switch result {
                        case .success(let posted):
                            entry.field("eventId", posted.event.eventId)
                            entry.field("createdAt", posted.event.createdAt)
                            entry.field("status", posted.event.status.rawValue)
                            entry.field("created", posted.created)
                        case .failure(let error):
                            entry.field(
                                "error",
                                object: {
                                    APIMiddleware.write(
                                        APIError.from(error) ?? .internalError, requestID: nil, into: &$0)
                                })
                        }
                    }
                }
                object.field("requestId", requestID)
            }
        }
    }

    struct Page: JSONWritable {
        var page: InboxPage
        var limit: Int
        var requestID: String

        func write(to json: inout JSONText) {
            json.object { object in
                object.field("events", array: page.events) { $1.write(to: &$0) }
                object.field(
                    "pagination",
                    PaginationBody(nextCursor: page.nextCursor, limit: limit))
                object.field("requestId", requestID)
            }
        }
    }

    struct PaginationBody: JSONWritable {
        var nextCursor: String?
        var limit: Int

        func write(to json: inout JSONText) {
            json.object { object in
                object.field("nextCursor", nextCursor, includeNull: true)
                object.field("limit", UInt64(limit))
            }
        }
    }

    struct Acknowledged: JSONWritable {
        var event: InboxEvent
        var requestID: String

        func write(to json: inout JSONText) {
            json.object { object in
                object.field("eventId", event.eventId)
                object.field("status", event.status.rawValue)
                object.field("acknowledgedAt", event.acknowledgedAt)
                object.field("message", "Event acknowledged")
                object.field("requestId", requestID)
            }
        }
    }

    struct Deleted: JSONWritable {
        var eventID: String
        var message: String
        var requestID: String

        func write(to json: inout JSONText) {
            json.object { object in
                object.field("eventId", eventID)
                object.field("message", message)
                object.field("requestId", requestID)
            }
        }
    }
}

extension InboxEvent: JSONWritable {
    package func write(to json: inout JSONText) {
        json.object { object in
            object.field("eventId", eventId)
            object.field("source", source)
            object.field("eventType", eventType)
            object.field("payload", payload)
            object.field("metadata", MetadataBody(metadata: metadata))
            object.field("status", status.rawValue)
            object.field("createdAt", createdAt)
            object.field("acknowledgedAt", acknowledgedAt)
        }
    }
}

private struct MetadataBody: JSONWritable {
    var metadata: EventMetadata

    func write(to json: inout JSONText) {
        json.object { object in
            object.field("correlationId", metadata.correlationId)
            object.field("priority", metadata.priority.rawValue)
            object.field("idempotencyKey", metadata.idempotencyKey)
        }
    }
}
