import Chat
import Hummingbird
import Inbox
import JSONCoding

/// The event inbox (docs/design.md section 6): `POST /v1/events`, `POST /v1/events/batch`,
/// `GET /v1/inbox`, `POST /v1/events/{eventId}/ack`, `DELETE /v1/events/{eventId}`, behind API
/// keys.
struct InboxController {
    let inbox: InboxService

    func addRoutes(to group: RouterGroup<ChatRequestContext>) {
        group.post("events", use: post)
        group.post("events/batch", use: postBatch)
        group.get("inbox", use: pending)
        group.post("events/{eventId}/ack", use: acknowledge)
        group.delete("events/{eventId}", use: delete)
    }

    private static let eventFields: Set<String> = ["source", "eventType", "payload", "metadata"]

    @Sendable func post(_ request: Request, context: ChatRequestContext) async throws -> JSONResponse<Created>
    {
        let (body, _) = try await JSONBody.object(
            from: request, context: context, allowedFields: Self.eventFields)
        let posted = try await inbox.post(try Self.newEvent(body), by: try poster(context))
        return JSONResponse(
            status: posted.created ? .created : .ok,
            body: Created(
                event: posted.event,
                message: posted.created ? "Event created" : "Event already exists for this idempotency key",
                requestID: context.requestID))
    }

    /// Up to 500 events in one commit, answered entry by entry (as Kinesis `PutRecords` is):
    /// an entry that is not a valid event is refused with its reason and writes nothing.
    @Sendable func postBatch(_ request: Request, context: ChatRequestContext) async throws -> JSONResponse<
        BatchPosted
    > {
        let (body, _) = try await JSONBody.object(from: request, context: context, allowedFields: ["events"])
        guard case .array(let entries) = try body.value("events") else {
            throw APIError.invalidRequest("events must be an array of events", details: ["field": "events"])
        }
        let batch = entries.enumerated().map { index, entry in
            Result { () throws(InboxError) in
                do {
                    guard case .object(let members) = entry else {
                        throw APIError.invalidRequest("an event must be a JSON object")
                    }
                    try JSONObjectBody.refuseUnknown(Set(members.keys), allowed: Self.eventFields)
                    return try Self.newEvent(JSONObjectBody(members: members))
                } catch let error as APIError {
                    throw .invalidRequest(
                        error.message, details: error.details.merging(["index": "\(index)"]) { $1 })
                } catch {
                    throw .invalidRequest("\(error)", details: ["index": "\(index)"])
                }
            }
        }
        let results = try await inbox.post(batch: batch, by: try poster(context))
        return JSONResponse(body: BatchPosted(results: results, requestID: context.requestID))
    }

    private static func newEvent(_ body: JSONObjectBody) throws -> InboxService.NewEvent {
        InboxService.NewEvent(
            source: try body.string("source"), eventType: try body.string("eventType"),
            payload: try body.value("payload"), metadata: try metadata(body.optionalObject("metadata")))
    }

    @Sendable func pending(_ request: Request, context: ChatRequestContext) async throws -> JSONResponse<Page>
    {
        let parameters = request.uri.queryParameters
        let limit: Int
        if let text = parameters["limit"] {
            guard let value = Int(text) else {
                throw APIError.invalidRequest("limit must be a whole number", details: ["parameter": "limit"])
            }
            limit = value
        } else {
            limit = 50
        }
        let filter = InboxFilter(
            source: parameters["source"].map(String.init), eventType: parameters["eventType"].map(String.init)
        )
        let page = try inbox.pending(
            filter: filter, limit: limit, cursor: parameters["cursor"].map(String.init))
        return JSONResponse(body: Page(page: page, limit: limit, requestID: context.requestID))
    }

    @Sendable func acknowledge(_ request: Request, context: ChatRequestContext) async throws -> JSONResponse<
        Acknowledged
    > {
        let event = try await inbox.acknowledge(
            try context.parameters.require("eventId"), by: try poster(context))
        return JSONResponse(body: Acknowledged(event: event, requestID: context.requestID))
    }

    @Sendable func delete(_ request: Request, context: ChatRequestContext) async throws -> JSONResponse<
        Deleted
    > {
        let eventID = try context.parameters.require("eventId")
        let existed = try await inbox.delete(eventID, by: try poster(context))
        return JSONResponse(
            body: Deleted(
                eventID: eventID, message: existed ? "Event deleted" : "Event not found; nothing to delete",
                requestID: context.requestID))
    }

    private func poster(_ context: ChatRequestContext) throws -> String {
        guard let key = context.apiKeyID else { throw APIError.unauthorized("an API key is required") }
        return "key:" + key
    }

    /// The metadata object, refusing fields it does not know and values of the wrong type.
    static func metadata(_ fields: [String: JSONValue]?) throws -> EventMetadata {
        guard let fields else { return EventMetadata() }
        let unknown = fields.keys.filter { !["correlationId", "priority", "idempotencyKey"].contains($0) }
            .sorted()
        guard unknown.isEmpty else {
            throw APIError.invalidRequest(
                "unknown field\(unknown.count == 1 ? "" : "s") \(unknown.map { "'metadata.\($0)'" }.joined(separator: ", "))",
                details: ["fields": unknown.map { "metadata.\($0)" }.joined(separator: ",")])
        }
        func string(_ name: String) throws -> String? {
            switch fields[name] {
            case nil, .null: return nil
            case .string(let value): return value
            default:
                throw APIError.invalidRequest(
                    "metadata.\(name) must be a string", details: ["field": "metadata.\(name)"])
            }
        }
        var metadata = EventMetadata(
            correlationId: try string("correlationId"), idempotencyKey: try string("idempotencyKey"))
        if let priority = try string("priority") {
            guard let value = EventMetadata.Priority(rawValue: priority) else {
                throw APIError.invalidRequest(
                    "metadata.priority must be low, normal or high", details: ["field": "metadata.priority"])
            }
            metadata.priority = value
        }
        return metadata
    }
}
