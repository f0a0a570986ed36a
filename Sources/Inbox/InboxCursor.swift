import EventLog
import Foundation

/// The opaque inbox cursor: the order key of the last event a page returned, base64url.
enum InboxCursor {
    static let length = 8 + 36

    static func encode(_ event: InboxEvent) -> String? {
        guard let createdAt = Timestamp(rfc3339: event.createdAt) else { return nil }
        return Data(InboxTables.orderKey(createdAt: createdAt, eventID: event.eventId)).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    static func decode(_ token: String) throws(InboxError) -> [UInt8] {
        var base64 = token.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base64 += String(repeating: "=", count: (4 - base64.count % 4) % 4)
        guard token.utf8.count <= 80, let data = Data(base64Encoded: base64), data.count == length else {
            throw .invalidRequest("the cursor is malformed", details: ["parameter": "cursor"])
        }
        return Array(data)
    }
}
