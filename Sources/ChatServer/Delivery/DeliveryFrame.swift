import Chat
import EventLog
import Foundation
import JSONCoding
import NIOCore

/// The JSON frames the server sends over a delivery socket (docs/design.md sections 5 and 11),
/// each rendered once — as the complete WebSocket text frame, header included — into a buffer
/// that every subscriber's socket writes as it is.
public enum DeliveryFrame {
    /// A channel's record: a `message` frame for a new message, an `event` frame otherwise.
    static func record(_ record: Record) -> ByteBuffer {
        let channelID = record.channelID ?? record.partitionKey
        let seq = record.channelSeq ?? 0
        var json = JSONText(capacity: 256 + record.payload.count)
        if record.type == ChatRecordType.messageCreated,
            let message = try? Message(created: record)
        {
            json.object { frame in
                frame.field("type", "message")
                frame.field("channelId", channelID)
                frame.field("seq", seq)
                frame.field("message", message)
            }
        } else {
            json.object { frame in
                frame.field("type", "event")
                frame.field("channelId", channelID)
                frame.field("seq", seq)
                frame.field("event", RecordEvent(record: record))
            }
        }
        return wire(json.bytes)
    }

    static func subscribed(
        channelID: String, head: SequenceNumber, recovered: UInt64, truncated: Bool
    ) -> ByteBuffer {
        render { frame in
            frame.field("type", "subscribed")
            frame.field("channelId", channelID)
            frame.field("seq", head)
            frame.field("recovered", recovered)
            frame.field("truncated", truncated)
        }
    }

    static func unsubscribed(channelID: String, reason: String? = nil) -> ByteBuffer {
        render { frame in
            frame.field("type", "unsubscribed")
            frame.field("channelId", channelID)
            frame.field("reason", reason)
        }
    }

    static func error(code: String, message: String, channelID: String? = nil) -> ByteBuffer {
        render { frame in
            frame.field("type", "error")
            frame.field("code", code)
            frame.field("message", message)
            frame.field("channelId", channelID)
        }
    }

    static let pong = render { $0.field("type", "pong") }

    /// The user's read marker moved (sent to that user's sessions only).
    static func readMarker(channelID: String, seq: UInt64) -> ByteBuffer {
        render { frame in
            frame.field("type", "read")
            frame.field("channelId", channelID)
            frame.field("seq", seq)
        }
    }

    /// The answer to an `auth` frame: the socket now lasts until `validUntil`.
    static func authenticated(validUntil: Date) -> ByteBuffer {
        render { frame in
            frame.field("type", "authenticated")
            frame.field(
                "validUntil",
                Timestamp(microseconds: Int64(validUntil.timeIntervalSince1970 * 1_000_000)).rfc3339)
        }
    }

    private static func render(_ body: (inout JSONText.ObjectWriter) -> Void) -> ByteBuffer {
        var json = JSONText(capacity: 128)
        json.object(body)
        return wire(json.bytes)
    }

    /// A final, unmasked text frame carrying `payload`, as a server sends it (RFC 6455 §5.2).
    static func wire(_ payload: [UInt8]) -> ByteBuffer {
        webSocketFrame(opcode: 0x1, payload: payload)
    }

    /// A final, unmasked frame with this opcode.
    public static func webSocketFrame(opcode: UInt8, payload: some Collection<UInt8>) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.reserveCapacity(payload.count + 10)
        buffer.writeInteger(0x80 | opcode)
        switch payload.count {
        case ..<126: buffer.writeInteger(UInt8(payload.count))
        case ...0xFFFF:
            buffer.writeInteger(UInt8(126))
            buffer.writeInteger(UInt16(payload.count))
        default:
            buffer.writeInteger(UInt8(127))
            buffer.writeInteger(UInt64(payload.count))
        }
        buffer.writeBytes(payload)
        return buffer
    }
}

/// A record other than a new message, as an `event` frame carries it: its type, id, actor and
/// time, then the fields of its payload.
private struct RecordEvent: JSONWritable {
    let record: Record

    func write(to json: inout JSONText) {
        var payload = record.payload[...]
        // The payload is a JSON object: splice its members in after ours.
        while let first = payload.first, first != UInt8(ascii: "{") { payload = payload.dropFirst() }
        json.object { event in
            event.field("type", record.type)
            event.field("id", record.id.description)
            event.field("actorId", record.actor)
            event.field("createdAt", record.createdAt.rfc3339)
        }
        let members = payload.dropFirst().drop { $0 == UInt8(ascii: " ") }
        guard members.first != UInt8(ascii: "}"), !members.isEmpty else { return }
        json.replaceLastByte(with: UInt8(ascii: ","))
        json.raw(bytes: members)
    }
}
