import Foundation
import JSONCoding

extension Message {
    /// The stored form in the messages projection: the message's JSON exactly as the API
    /// renders it, so a history page is the stored bytes one after another.
    var stored: [UInt8] {
        var json = JSONText(capacity: 160 + (text?.utf8.count ?? 0))
        write(to: &json)
        return json.bytes
    }

    /// Reads the stored form: JSON, or the binary form data directories written before it
    /// (a binary value starts with a length, never with `{`).
    init(stored bytes: [UInt8]) throws {
        guard bytes.first == UInt8(ascii: "{") else {
            try self.init(binary: bytes)
            return
        }
        guard case .object(let members) = try JSONParser.parse(bytes) else {
            throw MalformedPayload(description: "stored message is not a JSON object")
        }
        func string(_ name: String) throws -> String {
            guard case .string(let value) = members[name] else {
                throw MalformedPayload(description: "stored message has no \(name)")
            }
            return value
        }
        func optionalString(_ name: String) -> String? {
            if case .string(let value) = members[name] { return value }
            return nil
        }
        guard case .number(let seq) = members["seq"], let seq = UInt64(exactly: seq) else {
            throw MalformedPayload(description: "stored message has no seq")
        }
        self.init(
            id: try string("id"), channelId: try string("channelId"), seq: seq,
            senderId: try string("senderId"),
            text: optionalString("text"), createdAt: try string("createdAt"),
            metadata: members["metadata"], editedAt: optionalString("editedAt"),
            deleted: members["deleted"] == .bool(true) ? true : nil, replyTo: optionalString("replyTo"))
    }

    /// The API's JSON for a stored message: the bytes themselves, or rendered from the binary form.
    static func json(stored bytes: [UInt8]) throws -> [UInt8] {
        bytes.first == UInt8(ascii: "{") ? bytes : try Message(binary: bytes).stored
    }

    /// The form before `stored`, still read from older data directories.
    init(binary: [UInt8]) throws {
        var reader = BinaryReader(binary)
        id = try reader.readString()
        channelId = try reader.readString()
        seq = try reader.readUInt64()
        senderId = try reader.readString()
        text = try reader.readOptionalString()
        createdAt = try reader.readString()
        metadata = try reader.readOptionalString().map {
            try JSONDecoder().decode(JSONValue.self, from: Data($0.utf8))
        }
        editedAt = try reader.readOptionalString()
        deleted = try reader.readBool() ? true : nil
        replyTo = try reader.readOptionalString()
    }
}

extension ChannelState {
    /// The stored form in the channels projection.
    var binary: [UInt8] {
        var writer = BinaryWriter()
        writer.write(id)
        writer.write(name)
        writer.write(agent)
        writer.write(createdBy)
        writer.write(createdAt)
        writer.write(deleted)
        return writer.bytes
    }

    init(binary: [UInt8]) throws {
        var reader = BinaryReader(binary)
        id = try reader.readString()
        name = try reader.readString()
        agent = try reader.readBool()
        createdBy = try reader.readString()
        createdAt = try reader.readString()
        deleted = try reader.readBool()
    }
}
