/// An example of every JSON request body and success response the API documents, keyed by
/// operation ("POST /v1/channels") and then by "request" or the status. `OpenAPISpec` places
/// each under its media type's `example`; a test checks every example against its schema.
enum OpenAPIExamples {
    private static let channel = """
        {"id": "416a1cce-7d63-4e94-a8ea-5dbd86bfae54", "name": "general", "members": ["alice", "bob"],
         "agent": false, "createdBy": "alice", "createdAt": "2026-12-06T03:49:59.390969Z",
         "lastReadSeq": 0, "unreadCount": 0}
        """
    private static let message = """
        {"id": "01a24979-0ca1-7114-9f64-34fc7ca749d6", "channelId": "416a1cce-7d63-4e94-a8ea-5dbd86bfae54",
         "seq": 2, "senderId": "alice", "text": "hello", "createdAt": "2026-12-06T03:49:59.585276Z"}
        """
    private static let edited = """
        {"id": "01a24979-0ca1-7114-9f64-34fc7ca749d6", "channelId": "416a1cce-7d63-4e94-a8ea-5dbd86bfae54",
         "seq": 2, "senderId": "alice", "text": "hello, edited", "createdAt": "2026-12-06T03:49:59.585276Z",
         "editedAt": "2026-12-06T03:49:59.766375Z"}
        """
    private static let newEvent = """
        {"source": "billing", "eventType": "invoice.paid", "payload": {"invoiceId": "inv-1"},
         "metadata": {"correlationId": "order-7", "priority": "high", "idempotencyKey": "inv-1-paid"}}
        """
    private static let eventCreated = """
        {"eventId": "01a24979-0dea-7222-b217-1dbaca85339e", "createdAt": "2026-12-06T03:49:59.915119Z",
         "status": "pending", "message": "Event created", "requestId": "fe55f444-1a67-4455-a8b3-6a2357f2d6f2"}
        """
    private static let shard = """
        {"stream": "chat_events", "shard": 2, "checkpoint": 6, "head": 6, "lag": 0, "running": true,
         "processed": 6, "retries": 0, "failingAttempts": 0, "checkpointsRefused": 0, "lastError": null}
        """

    static let byOperation: [String: [String: String]] = [
        "GET /v1/health": ["200": #"{"status": "ok"}"#],
        "GET /v1/ready": ["200": #"{"status": "ready"}"#],
        "GET /openapi.json": [
            "200": #"{"openapi": "3.1.0", "info": {"title": "chatlog", "version": "1.0.0"}}"#
        ],
        "GET /console/{file}": ["200": #"{"dev": false}"#],
        "POST /ddbstreams": [
            "request": #"{"TableName": "chat_events", "Limit": 10}"#,
            "200": """
            {"Streams": [{"StreamArn": "arn:aws:dynamodb:us-east-1:000000000000:table/chat_events/stream/2026-12-06T03:49:59.390",
              "TableName": "chat_events", "StreamLabel": "2026-12-06T03:49:59.390"}]}
            """,
        ],
        "POST /v1/channels": [
            "request": #"{"name": "general", "members": ["bob"], "agent": false}"#,
            "201": #"{"channel": \#(channel)}"#,
        ],
        "GET /v1/channels": ["200": #"{"channels": [\#(channel)]}"#],
        "GET /v1/channels/{channelId}": ["200": #"{"channel": \#(channel)}"#],
        "PATCH /v1/channels/{channelId}": [
            "request": #"{"name": "general"}"#, "200": #"{"channel": \#(channel)}"#,
        ],
        "DELETE /v1/channels/{channelId}": ["200": #"{"channel": \#(channel)}"#],
        "POST /v1/channels/{channelId}/members": [
            "request": #"{"userId": "bob"}"#, "200": #"{"channel": \#(channel)}"#,
        ],
        "DELETE /v1/channels/{channelId}/members/{userId}": ["200": #"{"channel": \#(channel)}"#],
        "POST /v1/channels/{channelId}/read": [
            "request": #"{"seq": 2}"#,
            "200": #"{"channelId": "416a1cce-7d63-4e94-a8ea-5dbd86bfae54", "lastReadSeq": 2}"#,
        ],
        "POST /v1/channels/{channelId}/messages": [
            "request": #"{"text": "hello"}"#, "201": #"{"message": \#(message)}"#,
            "200": #"{"message": \#(message)}"#,
        ],
        "GET /v1/channels/{channelId}/messages": ["200": #"{"messages": [\#(message)], "nextCursor": null}"#],
        "PATCH /v1/channels/{channelId}/messages/{messageId}": [
            "request": #"{"text": "hello, edited"}"#, "200": #"{"message": \#(edited)}"#,
        ],
        "DELETE /v1/channels/{channelId}/messages/{messageId}": [
            "200": """
            {"message": {"id": "01a24979-0ca1-7114-9f64-34fc7ca749d6", "channelId": "416a1cce-7d63-4e94-a8ea-5dbd86bfae54",
             "seq": 2, "senderId": "alice", "createdAt": "2026-12-06T03:49:59.585276Z",
             "editedAt": "2026-12-06T03:49:59.766375Z", "deleted": true}}
            """
        ],
        "POST /v1/users/{userId}/chat": [
            "request": #"{"message": "hi"}"#,
            "200": """
            {"conversationId": "e5f2ddaa-8dac-498e-8cee-13e8c2abfc4f",
             "message": {"id": "01a24979-0f0a-7276-9fc7-393fd9bf1327", "channelId": "e5f2ddaa-8dac-498e-8cee-13e8c2abfc4f",
               "seq": 2, "senderId": "alice", "text": "hi", "createdAt": "2026-12-06T03:50:00.202630Z"},
             "reply": {"id": "01a24979-0f0c-705f-bf35-05e01b9e895c", "channelId": "e5f2ddaa-8dac-498e-8cee-13e8c2abfc4f",
               "seq": 3, "senderId": "agent", "text": "Hello!", "createdAt": "2026-12-06T03:50:00.204095Z",
               "replyTo": "01a24979-0f0a-7276-9fc7-393fd9bf1327"}}
            """,
        ],
        "POST /v1/events": ["request": newEvent, "201": eventCreated, "200": eventCreated],
        "POST /v1/events/batch": [
            "request": """
            {"events": [\(newEvent),
              {"source": "billing", "eventType": "invoice.paid", "payload": {"invoiceId": "inv-0"},
               "metadata": {"idempotencyKey": "inv-0-paid"}}]}
            """,
            "200": """
            {"failedCount": 1, "results": [
              {"eventId": "01a24979-0dfb-72c7-a1b7-74ceea6d8e0a", "createdAt": "2026-12-06T03:49:59.931567Z",
               "status": "pending", "created": true},
              {"error": {"code": "conflict", "details": {},
               "message": "the event first posted with this idempotency key was deleted"}}],
             "requestId": "e688dcfa-f82a-4fd1-855c-f0a4407be8fa"}
            """,
        ],
        "GET /v1/inbox": [
            "200": """
            {"events": [{"eventId": "01a24979-0dea-7222-b217-1dbaca85339e", "source": "billing",
              "eventType": "invoice.paid", "payload": {"invoiceId": "inv-1"},
              "metadata": {"correlationId": "order-7", "priority": "high", "idempotencyKey": "inv-1-paid"},
              "status": "pending", "createdAt": "2026-12-06T03:49:59.915119Z"}],
             "pagination": {"nextCursor": "AAZh7wDeXm8wMWEyNDk3OS0wZGVhLTcyMjItYjIxNy0xZGJhY2E4NTMzOWU", "limit": 1},
             "requestId": "5181fcb5-b167-4820-a2a5-b89cc86da3c1"}
            """
        ],
        "POST /v1/events/{eventId}/ack": [
            "200": """
            {"eventId": "01a24979-0dea-7222-b217-1dbaca85339e", "status": "acknowledged",
             "acknowledgedAt": "2026-12-06T03:50:00.107336Z", "message": "Event acknowledged",
             "requestId": "fb2b25f0-ab8c-4f58-b22b-e10d52ce9322"}
            """
        ],
        "DELETE /v1/events/{eventId}": [
            "200": """
            {"eventId": "01a24979-0dea-7222-b217-1dbaca85339e", "message": "Event deleted",
             "requestId": "d06b1d38-8d97-47d6-98a1-d3bc3cf08342"}
            """
        ],
        "GET /v1/admin/streams": [
            "200": """
            {"shards": [{"stream": "chat_events", "shard": 2, "firstSeq": 1, "head": 6, "records": 6, "bytes": 1300}]}
            """
        ],
        "GET /v1/admin/consumers": [
            "200":
                #"{"groups": [{"name": "agent", "running": true, "deadLetters": 0, "shards": [\#(shard)]}]}"#
        ],
        "POST /v1/admin/consumers/{group}/reset": [
            "request": #"{"toSeq": 0, "dryRun": true}"#,
            "200": """
            {"group": "agent", "dryRun": true,
             "shards": [{"stream": "chat_events", "shard": 2, "from": 6, "to": 0, "toReprocess": 6}]}
            """,
        ],
        "POST /v1/admin/consumers/{group}/dlq/redrive": ["200": #"{"redriven": [], "failed": []}"#],
    ]

    /// The error envelope, as every error response shows it.
    static let error = """
        {"error": {"code": "not_found", "details": {}, "message": "channel 416a1cce-7d63-4e94-a8ea-5dbd86bfae54 not found",
         "requestId": "4b084d03-2e02-4caf-bb28-fce53877d03a"}}
        """
}
