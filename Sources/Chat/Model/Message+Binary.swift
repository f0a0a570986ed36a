import Foundation

extension Message {
    /// The stored form in the messages projection.
    var binary: [UInt8] {
        get throws {
            var writer = BinaryWriter(capacity: 96 + (text?.utf8.count ?? 0))
            writer.write(id)
            writer.write(channelId)
            writer.write(seq)
            writer.write(senderId)
            writer.write(text)
            writer.write(createdAt)
            writer.write(
                try metadata.map { value in
                    let encoder = JSONEncoder()
                    encoder.outputFormatting = .sortedKeys
                    return String(decoding: try encoder.encode(value), as: UTF8.self)
                })
            writer.write(editedAt)
            writer.write(deleted ?? false)
            writer.write(replyTo)
            return writer.bytes
        }
    }

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
