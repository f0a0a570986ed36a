import Chat
import Foundation
import Inbox
import JSONCoding

/// The OpenAPI 3.1 description of the HTTP API, served at `/openapi.json`. A test checks that
/// every registered route is described here and every path here is registered.
enum OpenAPISpec {
    /// The document served: `described` with the error envelope's statuses added to every
    /// authenticated operation, since the middleware can answer any of them on any route, and
    /// `OpenAPIExamples` placed under each body's and response's media types.
    static let json: String = {
        guard var document = try? JSONSerialization.jsonObject(with: Data(described.utf8)) as? [String: Any],
            var paths = document["paths"] as? [String: Any]
        else { return described }
        let statuses = ["400", "401", "403", "404", "409", "413", "415", "429", "503"]
        let error: [String: Any] = ["$ref": "#/components/responses/Error"]
        for (path, item) in paths {
            guard var operations = item as? [String: Any] else { continue }
            for (method, value) in operations where method != "parameters" {
                guard var operation = value as? [String: Any] else { continue }
                let examples = OpenAPIExamples.byOperation["\(method.uppercased()) \(path)"] ?? [:]
                if var body = operation["requestBody"] as? [String: Any], let example = examples["request"] {
                    body["content"] = withExample(example, in: body["content"])
                    operation["requestBody"] = body
                }
                guard var responses = operation["responses"] as? [String: Any] else { continue }
                for (status, example) in examples where status != "request" {
                    guard var response = responses[status] as? [String: Any] else { continue }
                    response["content"] = withExample(example, in: response["content"])
                    responses[status] = response
                }
                // Below the router any request may be timed out or refused for overload.
                let open = (operation["security"] as? [Any])?.isEmpty == true
                for status in open ? ["408", "503"] : statuses + ["408"] where responses[status] == nil {
                    responses[status] = error
                }
                operation["responses"] = responses
                operations[method] = operation
            }
            paths[path] = operations
        }
        document["paths"] = paths
        if var components = document["components"] as? [String: Any],
            var responses = components["responses"] as? [String: Any],
            var envelope = responses["Error"] as? [String: Any]
        {
            envelope["content"] = withExample(OpenAPIExamples.error, in: envelope["content"])
            responses["Error"] = envelope
            components["responses"] = responses
            document["components"] = components
        }
        guard
            let data = try? JSONSerialization.data(
                withJSONObject: document, options: [.sortedKeys, .withoutEscapingSlashes])
        else { return described }
        return String(decoding: data, as: UTF8.self)
    }()

    /// `content` (media types to their objects) with `example`, parsed, under its JSON types.
    private static func withExample(_ example: String, in content: Any?) -> Any? {
        guard var content = content as? [String: Any],
            let value = try? JSONSerialization.jsonObject(
                with: Data(example.utf8), options: .fragmentsAllowed)
        else { return content }
        for (type, media) in content where type.hasSuffix("json") {
            guard var media = media as? [String: Any] else { continue }
            media["example"] = value
            content[type] = media
        }
        return content
    }

    /// The document as written.
    static let described = """
        {
          "openapi": "3.1.0",
          "info": {"title": "chatlog", "version": "1.0.0",
            "description": "An event-sourced chat backend: every write is a record in an append-only log."},
          "servers": [{"url": "http://127.0.0.1:8080"}],
          "components": {
            "securitySchemes": {
              "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
              "apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
              "tokenQuery": {"type": "apiKey", "in": "query", "name": "token"},
              "sigv4": {"type": "apiKey", "in": "header", "name": "Authorization",
                "description": "AWS Signature Version 4 (service dynamodb, any region) with an API key's credential"}
            },
            "parameters": {
              "channelId": {"name": "channelId", "in": "path", "required": true, "schema": {"type": "string"}},
              "messageId": {"name": "messageId", "in": "path", "required": true, "schema": {"type": "string"}},
              "userId": {"name": "userId", "in": "path", "required": true, "schema": {"type": "string"}},
              "eventId": {"name": "eventId", "in": "path", "required": true, "schema": {"type": "string",
                "pattern": "^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"}}
            },
            "schemas": {
              "AmazonError": {"type": "object", "required": ["__type", "message"], "properties": {
                "__type": {"type": "string"}, "message": {"type": "string"}}},
              "Name": \(InboxFields.name.schema),
              "UserId": \(ChatFields.userID.schema),
              "ChannelName": \(ChatFields.channelName.schema),
              "MessageText": \(ChatFields.messageText.schema),
              "EventMetadata": {"type": "object", "additionalProperties": false, "properties": {
                "correlationId": {"oneOf": [{"$ref": "#/components/schemas/Name"}, {"type": "null"}]},
                "priority": {"type": ["string", "null"], "enum": ["low", "normal", "high", null]},
                "idempotencyKey": {"oneOf": [{"$ref": "#/components/schemas/Name"}, {"type": "null"}]}}},
              "NewEvent": {"type": "object",
                "additionalProperties": false, "required": ["source", "eventType", "payload"], "properties": {
                  "source": {"$ref": "#/components/schemas/Name"},
                  "eventType": {"$ref": "#/components/schemas/Name"},
                  "payload": {"type": "object"},
                  "metadata": {"oneOf": [{"$ref": "#/components/schemas/EventMetadata"}, {"type": "null"}]}}},
              "EventCreated": {"type": "object", "required": ["eventId", "createdAt", "status", "message", "requestId"],
                "properties": {"eventId": {"type": "string"}, "createdAt": {"type": "string"},
                  "status": {"type": "string", "enum": ["pending", "acknowledged"]}, "message": {"type": "string"},
                  "requestId": {"type": "string"}}},
              "InboxEvent": {"type": "object", "required": ["eventId", "source", "eventType", "payload", "metadata", "status", "createdAt"],
                "properties": {"eventId": {"type": "string"}, "source": {"type": "string"}, "eventType": {"type": "string"},
                  "payload": {"type": "object"}, "metadata": {"$ref": "#/components/schemas/EventMetadata"},
                  "status": {"type": "string", "enum": ["pending", "acknowledged"]}, "createdAt": {"type": "string"},
                  "acknowledgedAt": {"type": "string"}}},
              "Error": {"type": "object", "required": ["error"], "properties": {"error": {"type": "object",
                "required": ["code", "message", "details", "requestId"], "properties": {
                  "code": {"type": "string", "enum": ["invalid_request", "unauthorized", "forbidden", "not_found",
                    "method_not_allowed", "conflict", "payload_too_large", "unsupported_media_type", "rate_limited",
                    "agent_timeout", "storage_full", "storage_error", "write_unconfirmed", "not_ready", "request_timeout", "overloaded",
                    "internal"]},
                  "message": {"type": "string"}, "details": {"type": "object"}, "requestId": {"type": "string"}}}}},
              "Channel": {"type": "object", "required": ["id", "name", "members", "agent", "createdBy", "createdAt",
                  "lastReadSeq", "unreadCount"],
                "properties": {"id": {"type": "string"}, "name": {"type": "string"},
                  "members": {"type": "array", "items": {"type": "string"}}, "agent": {"type": "boolean"},
                  "createdBy": {"type": "string"}, "createdAt": {"type": "string", "format": "date-time"},
                  "lastReadSeq": {"type": "integer", "minimum": 0},
                  "unreadCount": {"type": "integer", "minimum": 0, "maximum": 1000}}},
              "ChannelResponse": {"type": "object", "required": ["channel"],
                "properties": {"channel": {"$ref": "#/components/schemas/Channel"}}},
              "Message": {"type": "object", "required": ["id", "channelId", "seq", "senderId", "createdAt"],
                "properties": {"id": {"type": "string"}, "channelId": {"type": "string"}, "seq": {"type": "integer", "minimum": 1},
                  "senderId": {"type": "string"}, "text": {"type": "string"},
                  "createdAt": {"type": "string", "format": "date-time"}, "metadata": {"type": "object"},
                  "editedAt": {"type": "string", "format": "date-time"}, "deleted": {"type": "boolean"},
                  "replyTo": {"type": "string"}}},
              "MessageResponse": {"type": "object", "required": ["message"],
                "properties": {"message": {"$ref": "#/components/schemas/Message"}}}
            },
            "responses": {
              "Error": {"description": "An error in the standard envelope",
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
            }
          },
          "security": [{"bearer": []}],
          "paths": {
            "/v1/health": {"get": {"summary": "Liveness", "security": [], "responses": {
              "200": {"description": "Listening", "content": {"application/json": {"schema": {"type": "object",
                "properties": {"status": {"type": "string"}}}}}}}}},
            "/v1/ready": {"get": {"summary": "Readiness", "security": [], "responses": {
              "200": {"description": "Ready", "content": {"application/json": {"schema": {"type": "object",
                "properties": {"status": {"type": "string"}}}}}},
              "503": {"$ref": "#/components/responses/Error"}}}},
            "/metrics": {"get": {"summary": "Prometheus metrics", "security": [], "responses": {
              "200": {"description": "Prometheus text format", "content": {"text/plain": {"schema": {"type": "string"}}}}}}},
            "/openapi.json": {"get": {"summary": "This document", "security": [], "responses": {
              "200": {"description": "OpenAPI 3.1", "content": {"application/json": {"schema": {"type": "object"}}}}}}},
            "/v1/ws": {"get": {"summary": "Receive-only WebSocket: upgrade with the JWT in Authorization or the token query parameter",
              "description": "Clients send JSON control frames only: {\\"type\\":\\"subscribe\\",\\"channelId\\":…,\\"sinceSeq\\":N?} (replays every record after sinceSeq, then goes live, with no gap and no duplicate), {\\"type\\":\\"unsubscribe\\",\\"channelId\\":…}, {\\"type\\":\\"ping\\"} and {\\"type\\":\\"auth\\",\\"token\\":…} (renews the socket's token). The server sends subscribed, message (the REST message shape), event (the channel's other records), unsubscribed, authenticated, error (the REST error codes) and pong frames. Close codes: 1001 shutting down or a missed ping, 1008 slow consumer, 4401 token expired.",
              "security": [{"bearer": []}, {"tokenQuery": []}],
              "parameters": [{"name": "token", "in": "query", "required": false, "schema": {"type": "string"}}],
              "responses": {"101": {"description": "Switching to the WebSocket protocol"},
                "400": {"$ref": "#/components/responses/Error"}, "401": {"$ref": "#/components/responses/Error"}}}},
            "/": {"get": {"summary": "Redirects to the web console", "security": [], "responses": {
              "302": {"description": "To /console"}}}},
            "/console": {"get": {"summary": "The web console: a page for chatting and operating, signed in with a token", "security": [], "responses": {
              "200": {"description": "The console's page", "content": {"text/html": {"schema": {"type": "string"}}}}}}},
            "/console/{file}": {"get": {"summary": "The console's scripts, styles and config.json ({\\"dev\\": bool})", "security": [],
              "parameters": [{"name": "file", "in": "path", "required": true, "schema": {"type": "string"}}],
              "responses": {
                "200": {"description": "The file", "content": {"text/javascript": {"schema": {"type": "string"}},
                  "text/css": {"schema": {"type": "string"}}, "application/json": {"schema": {"type": "object"}}}},
                "404": {"$ref": "#/components/responses/Error"}}}},
            "/ddbstreams": {"post": {"summary": "The DynamoDB Streams API (JSON 1.0): ListStreams, DescribeStream, GetShardIterator, GetRecords",
              "description": "For AWS SDKs with endpoint_url set to this path, signed with an API key's streams:read credential. The operation is named by X-Amz-Target (DynamoDBStreams_20120810.<Operation>); requests, answers and errors are DynamoDB Streams' own (ValidationException, ResourceNotFoundException, TrimmedDataAccessException, ExpiredIteratorException, the signature errors, UnknownOperationException).",
              "security": [{"sigv4": []}],
              "parameters": [{"name": "X-Amz-Target", "in": "header", "required": false, "schema": {"type": "string"}}],
              "requestBody": {"required": false, "content": {"application/x-amz-json-1.0": {"schema": {"type": "object"}}}},
              "responses": {
                "200": {"description": "The operation's output", "content": {"application/x-amz-json-1.0": {"schema": {"type": "object"}}}},
                "400": {"description": "A DynamoDB error", "content": {"application/x-amz-json-1.0": {"schema": {"$ref": "#/components/schemas/AmazonError"}}}},
                "413": {"description": "A body over the limit", "content": {
                  "application/x-amz-json-1.0": {"schema": {"$ref": "#/components/schemas/AmazonError"}},
                  "application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
                "500": {"description": "A DynamoDB error", "content": {"application/x-amz-json-1.0": {"schema": {"$ref": "#/components/schemas/AmazonError"}}}}}}},
            "/v1/channels": {
              "post": {"summary": "Create a channel; the creator becomes a member",
                "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object",
                  "additionalProperties": false, "required": ["name"], "properties": {
                    "name": {"$ref": "#/components/schemas/ChannelName"},
                    "members": {"type": ["array", "null"], "maxItems": \(ChatFields.maxInitialMembers),
                      "items": {"$ref": "#/components/schemas/UserId"}},
                    "agent": {"type": ["boolean", "null"]}}}}}},
                "responses": {"201": {"description": "Created", "content": {"application/json": {"schema":
                  {"$ref": "#/components/schemas/ChannelResponse"}}}},
                  "400": {"$ref": "#/components/responses/Error"}, "401": {"$ref": "#/components/responses/Error"},
                  "413": {"$ref": "#/components/responses/Error"}, "415": {"$ref": "#/components/responses/Error"},
                  "429": {"$ref": "#/components/responses/Error"}, "503": {"$ref": "#/components/responses/Error"}}},
              "get": {"summary": "The caller's channels", "responses": {
                "200": {"description": "Channels", "content": {"application/json": {"schema": {"type": "object",
                  "required": ["channels"], "properties": {"channels": {"type": "array",
                    "items": {"$ref": "#/components/schemas/Channel"}}}}}}},
                "401": {"$ref": "#/components/responses/Error"}, "429": {"$ref": "#/components/responses/Error"}}}
            },
            "/v1/channels/{channelId}": {
              "parameters": [{"$ref": "#/components/parameters/channelId"}],
              "get": {"summary": "A channel (404 unless the caller is a member)", "responses": {
                "200": {"description": "The channel", "content": {"application/json": {"schema":
                  {"$ref": "#/components/schemas/ChannelResponse"}}}},
                "401": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"}}},
              "patch": {"summary": "Rename", "requestBody": {"required": true, "content": {"application/json": {
                "schema": {"type": "object", "additionalProperties": false, "required": ["name"],
                  "properties": {"name": {"$ref": "#/components/schemas/ChannelName"}}}}}},
                "responses": {"200": {"description": "Renamed", "content": {"application/json": {"schema":
                  {"$ref": "#/components/schemas/ChannelResponse"}}}},
                  "400": {"$ref": "#/components/responses/Error"}, "401": {"$ref": "#/components/responses/Error"},
                  "404": {"$ref": "#/components/responses/Error"}, "415": {"$ref": "#/components/responses/Error"}}},
              "delete": {"summary": "Delete (creator only)", "responses": {
                "200": {"description": "The channel as it was", "content": {"application/json": {"schema":
                  {"$ref": "#/components/schemas/ChannelResponse"}}}},
                "401": {"$ref": "#/components/responses/Error"}, "403": {"$ref": "#/components/responses/Error"},
                "404": {"$ref": "#/components/responses/Error"}}}
            },
            "/v1/channels/{channelId}/members": {
              "parameters": [{"$ref": "#/components/parameters/channelId"}],
              "post": {"summary": "Add a member", "requestBody": {"required": true, "content": {"application/json": {
                "schema": {"type": "object", "additionalProperties": false, "required": ["userId"],
                  "properties": {"userId": {"$ref": "#/components/schemas/UserId"}}}}}},
                "responses": {"200": {"description": "The channel", "content": {"application/json": {"schema":
                  {"$ref": "#/components/schemas/ChannelResponse"}}}},
                  "400": {"$ref": "#/components/responses/Error"}, "401": {"$ref": "#/components/responses/Error"},
                  "404": {"$ref": "#/components/responses/Error"}, "409": {"$ref": "#/components/responses/Error"}}}
            },
            "/v1/channels/{channelId}/read": {
              "parameters": [{"$ref": "#/components/parameters/channelId"}],
              "post": {"summary": "Move the caller's read marker forward to seq (at most the channel's head)",
                "requestBody": {"required": true, "content": {"application/json": {
                "schema": {"type": "object", "additionalProperties": false, "required": ["seq"],
                  "properties": {"seq": {"type": "integer", "minimum": 0}}}}}},
                "responses": {"200": {"description": "Where the marker stands", "content": {"application/json": {"schema":
                  {"type": "object", "required": ["channelId", "lastReadSeq"], "properties": {
                    "channelId": {"type": "string"}, "lastReadSeq": {"type": "integer", "minimum": 0}}}}}},
                  "400": {"$ref": "#/components/responses/Error"}, "401": {"$ref": "#/components/responses/Error"},
                  "404": {"$ref": "#/components/responses/Error"}, "413": {"$ref": "#/components/responses/Error"},
                  "415": {"$ref": "#/components/responses/Error"}, "429": {"$ref": "#/components/responses/Error"},
                  "503": {"$ref": "#/components/responses/Error"}}}
            },
            "/v1/channels/{channelId}/members/{userId}": {
              "parameters": [{"$ref": "#/components/parameters/channelId"}, {"$ref": "#/components/parameters/userId"}],
              "delete": {"summary": "Remove a member (yourself, or anyone as the creator)", "responses": {
                "200": {"description": "The channel", "content": {"application/json": {"schema":
                  {"$ref": "#/components/schemas/ChannelResponse"}}}},
                "401": {"$ref": "#/components/responses/Error"}, "403": {"$ref": "#/components/responses/Error"},
                "404": {"$ref": "#/components/responses/Error"}}}
            },
            "/v1/channels/{channelId}/messages": {
              "parameters": [{"$ref": "#/components/parameters/channelId"}],
              "post": {"summary": "Post a message",
                "parameters": [{"name": "Idempotency-Key", "in": "header", "schema": {"type": "string"}}],
                "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object",
                  "additionalProperties": false, "required": ["text"], "properties": {"text": {"$ref": "#/components/schemas/MessageText"},
                    "metadata": {"type": ["object", "null"]}}}}}},
                "responses": {"201": {"description": "Posted", "content": {"application/json": {"schema":
                  {"$ref": "#/components/schemas/MessageResponse"}}}},
                  "200": {"description": "The message an earlier request with this Idempotency-Key posted",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/MessageResponse"}}}},
                  "400": {"$ref": "#/components/responses/Error"}, "401": {"$ref": "#/components/responses/Error"},
                  "404": {"$ref": "#/components/responses/Error"}, "409": {"$ref": "#/components/responses/Error"},
                  "413": {"$ref": "#/components/responses/Error"}, "415": {"$ref": "#/components/responses/Error"},
                  "429": {"$ref": "#/components/responses/Error"}, "503": {"$ref": "#/components/responses/Error"}}},
              "get": {"summary": "History, oldest first within a page",
                "parameters": [
                  {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 50}},
                  {"name": "before", "in": "query", "schema": {"type": "integer", "minimum": 0}},
                  {"name": "after", "in": "query", "schema": {"type": "integer", "minimum": 0}},
                  {"name": "cursor", "in": "query", "schema": {"type": "string"}}],
                "responses": {"200": {"description": "A page", "content": {"application/json": {"schema": {
                  "type": "object", "required": ["messages", "nextCursor"], "properties": {
                    "messages": {"type": "array", "items": {"$ref": "#/components/schemas/Message"}},
                    "nextCursor": {"type": ["string", "null"]}}}}}},
                  "400": {"$ref": "#/components/responses/Error"}, "401": {"$ref": "#/components/responses/Error"},
                  "404": {"$ref": "#/components/responses/Error"}}}
            },
            "/v1/events": {
              "post": {"summary": "Post an event to the inbox (the triggers stream)", "security": [{"apiKey": []}],
                "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/NewEvent"}}}},
                "responses": {
                  "201": {"description": "Created", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/EventCreated"}}}},
                  "200": {"description": "The event first posted with this idempotency key", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/EventCreated"}}}},
                  "400": {"$ref": "#/components/responses/Error"}, "401": {"$ref": "#/components/responses/Error"},
                  "409": {"$ref": "#/components/responses/Error"}, "413": {"$ref": "#/components/responses/Error"},
                  "415": {"$ref": "#/components/responses/Error"}, "429": {"$ref": "#/components/responses/Error"},
                  "503": {"$ref": "#/components/responses/Error"}}}
            },
            "/v1/events/batch": {
              "post": {"summary": "Post up to 500 events in one commit; each entry is answered on its own, and a refused entry writes nothing",
                "security": [{"apiKey": []}],
                "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object",
                  "additionalProperties": false, "required": ["events"], "properties": {
                    "events": {"type": "array", "minItems": 1, "maxItems": \(InboxService.maxBatch),
                      "items": {"$ref": "#/components/schemas/NewEvent"}}}}}}},
                "responses": {
                  "200": {"description": "One result per entry, in order", "content": {"application/json": {"schema": {"type": "object",
                    "required": ["failedCount", "results", "requestId"], "properties": {
                      "failedCount": {"type": "integer"},
                      "results": {"type": "array", "items": {"oneOf": [
                        {"type": "object", "required": ["eventId", "createdAt", "status", "created"], "properties": {
                          "eventId": {"type": "string"}, "createdAt": {"type": "string"},
                          "status": {"type": "string", "enum": ["pending", "acknowledged"]}, "created": {"type": "boolean"}}},
                        {"type": "object", "required": ["error"], "properties": {"error": {"type": "object",
                          "required": ["code", "message", "details"], "properties": {"code": {"type": "string"},
                            "message": {"type": "string"}, "details": {"type": "object"}}}}}]}},
                      "requestId": {"type": "string"}}}}}},
                  "400": {"$ref": "#/components/responses/Error"}, "401": {"$ref": "#/components/responses/Error"},
                  "413": {"$ref": "#/components/responses/Error"}, "415": {"$ref": "#/components/responses/Error"},
                  "429": {"$ref": "#/components/responses/Error"}, "503": {"$ref": "#/components/responses/Error"}}}
            },
            "/v1/inbox": {
              "get": {"summary": "Pending events, oldest first", "security": [{"apiKey": []}],
                "parameters": [
                  {"name": "limit", "in": "query", "required": false, "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 50}},
                  {"name": "cursor", "in": "query", "required": false, "schema": {"type": "string", "minLength": 1}},
                  {"name": "source", "in": "query", "required": false, "schema": {"type": "string", "minLength": 1}},
                  {"name": "eventType", "in": "query", "required": false, "schema": {"type": "string", "minLength": 1}}],
                "responses": {"200": {"description": "A page", "content": {"application/json": {"schema": {"type": "object",
                  "required": ["events", "pagination", "requestId"], "properties": {
                    "events": {"type": "array", "items": {"$ref": "#/components/schemas/InboxEvent"}},
                    "pagination": {"type": "object", "required": ["nextCursor", "limit"], "properties": {
                      "nextCursor": {"type": ["string", "null"]}, "limit": {"type": "integer"}}},
                    "requestId": {"type": "string"}}}}}},
                  "400": {"$ref": "#/components/responses/Error"}, "401": {"$ref": "#/components/responses/Error"},
                  "429": {"$ref": "#/components/responses/Error"}}}
            },
            "/v1/events/{eventId}/ack": {
              "parameters": [{"$ref": "#/components/parameters/eventId"}],
              "post": {"summary": "Acknowledge a pending event; of concurrent acks exactly one wins", "security": [{"apiKey": []}],
                "responses": {"200": {"description": "Acknowledged", "content": {"application/json": {"schema": {"type": "object",
                  "required": ["eventId", "status", "acknowledgedAt", "message", "requestId"], "properties": {
                    "eventId": {"type": "string"}, "status": {"type": "string", "enum": ["acknowledged"]},
                    "acknowledgedAt": {"type": "string"}, "message": {"type": "string"}, "requestId": {"type": "string"}}}}}},
                  "400": {"$ref": "#/components/responses/Error"}, "401": {"$ref": "#/components/responses/Error"},
                  "404": {"$ref": "#/components/responses/Error"}, "409": {"$ref": "#/components/responses/Error"},
                  "429": {"$ref": "#/components/responses/Error"}, "503": {"$ref": "#/components/responses/Error"}}}
            },
            "/v1/events/{eventId}": {
              "parameters": [{"$ref": "#/components/parameters/eventId"}],
              "delete": {"summary": "Delete an event; 200 whether or not it existed", "security": [{"apiKey": []}],
                "responses": {"200": {"description": "Gone", "content": {"application/json": {"schema": {"type": "object",
                  "required": ["eventId", "message", "requestId"], "properties": {
                    "eventId": {"type": "string"}, "message": {"type": "string"}, "requestId": {"type": "string"}}}}}},
                  "400": {"$ref": "#/components/responses/Error"}, "401": {"$ref": "#/components/responses/Error"},
                  "429": {"$ref": "#/components/responses/Error"}, "503": {"$ref": "#/components/responses/Error"}}}
            },
            "/v1/admin/streams": {
              "get": {"summary": "Every stream's shards: trim horizon, head, records and bytes kept", "security": [{"apiKey": []}],
                "responses": {"200": {"description": "Shards", "content": {"application/json": {"schema": {"type": "object",
                  "required": ["shards"], "properties": {"shards": {"type": "array", "items": {"type": "object",
                    "required": ["stream", "shard", "firstSeq", "head", "records", "bytes"]}}}}}}},
                  "401": {"$ref": "#/components/responses/Error"}, "403": {"$ref": "#/components/responses/Error"}}}
            },
            "/v1/admin/consumers": {
              "get": {"summary": "Consumer groups: checkpoint, head and lag per shard, dead letters", "security": [{"apiKey": []}],
                "responses": {"200": {"description": "Groups", "content": {"application/json": {"schema": {"type": "object",
                  "required": ["groups"], "properties": {"groups": {"type": "array", "items": {"type": "object"}}}}}}},
                  "401": {"$ref": "#/components/responses/Error"}}}
            },
            "/v1/admin/consumers/{group}/reset": {
              "parameters": [{"name": "group", "in": "path", "required": true, "schema": {"type": "string"}}],
              "post": {"summary": "Move a group's checkpoints on a live server", "security": [{"apiKey": []}],
                "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object",
                  "additionalProperties": false, "properties": {"toSeq": {"type": "integer", "minimum": 0},
                    "toTime": {"type": "string", "format": "date-time"}, "trimHorizon": {"type": "boolean"},
                    "latest": {"type": "boolean"}, "shard": {"type": "integer", "minimum": 0}, "dryRun": {"type": "boolean"}}}}}},
                "responses": {"200": {"description": "What moved", "content": {"application/json": {"schema": {"type": "object",
                  "required": ["group", "dryRun", "shards"], "properties": {"group": {"type": "string"},
                    "dryRun": {"type": "boolean"}, "shards": {"type": "array", "items": {"type": "object"}}}}}}},
                  "400": {"$ref": "#/components/responses/Error"}, "401": {"$ref": "#/components/responses/Error"}}}
            },
            "/v1/admin/consumers/{group}/dlq/redrive": {
              "parameters": [{"name": "group", "in": "path", "required": true, "schema": {"type": "string"}}],
              "post": {"summary": "Hand a group's dead letters to its handler again", "security": [{"apiKey": []}],
                "responses": {"200": {"description": "Outcome", "content": {"application/json": {"schema": {"type": "object",
                  "required": ["redriven", "failed"], "properties": {"redriven": {"type": "array", "items": {"type": "string"}},
                    "failed": {"type": "array", "items": {"type": "object"}}}}}}},
                  "401": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"}}}
            },
            "/v1/users/{userId}/chat": {
              "parameters": [{"$ref": "#/components/parameters/userId"}],
              "post": {"summary": "Send a message to the agent and wait for its reply (the path's user must be the caller)",
                "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object",
                  "additionalProperties": false, "required": ["message"], "properties": {
                    "message": {"$ref": "#/components/schemas/MessageText"}, "conversationId": {"type": "string"}}}}}},
                "responses": {"200": {"description": "The message and the agent's reply", "content": {"application/json":
                  {"schema": {"type": "object", "required": ["conversationId", "message", "reply"], "properties": {
                    "conversationId": {"type": "string"}, "message": {"$ref": "#/components/schemas/Message"},
                    "reply": {"$ref": "#/components/schemas/Message"}}}}}},
                  "400": {"$ref": "#/components/responses/Error"}, "401": {"$ref": "#/components/responses/Error"},
                  "403": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"},
                  "504": {"$ref": "#/components/responses/Error"}}}
            },
            "/v1/channels/{channelId}/messages/{messageId}": {
              "parameters": [{"$ref": "#/components/parameters/channelId"}, {"$ref": "#/components/parameters/messageId"}],
              "patch": {"summary": "Edit (sender only)", "requestBody": {"required": true, "content": {
                "application/json": {"schema": {"type": "object", "additionalProperties": false, "required": ["text"],
                  "properties": {"text": {"$ref": "#/components/schemas/MessageText"}}}}}},
                "responses": {"200": {"description": "Edited", "content": {"application/json": {"schema":
                  {"$ref": "#/components/schemas/MessageResponse"}}}},
                  "400": {"$ref": "#/components/responses/Error"}, "401": {"$ref": "#/components/responses/Error"},
                  "403": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"},
                  "409": {"$ref": "#/components/responses/Error"}}},
              "delete": {"summary": "Delete (sender only)", "responses": {
                "200": {"description": "Deleted", "content": {"application/json": {"schema":
                  {"$ref": "#/components/schemas/MessageResponse"}}}},
                "401": {"$ref": "#/components/responses/Error"}, "403": {"$ref": "#/components/responses/Error"},
                "404": {"$ref": "#/components/responses/Error"}}}
            }
          }
        }
        """
}
