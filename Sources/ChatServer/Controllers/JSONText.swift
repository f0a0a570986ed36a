import Chat
import Foundation

/// A response body written straight to JSON text: faster than `JSONEncoder` for the hot paths
/// (a history page has up to a hundred messages), with the contract's field names spelled once.
protocol JSONWritable: Sendable {
    func write(to json: inout JSONText)
}

/// JSON text under construction.
struct JSONText {
    private(set) var text = ""

    init(capacity: Int = 256) {
        text.reserveCapacity(capacity)
    }

    /// Writes an object whose members `body` adds with `field`.
    mutating func object(_ body: (inout ObjectWriter) -> Void) {
        text += "{"
        // Swapping moves the text into the writer and back without copying it.
        var writer = ObjectWriter(json: JSONText(capacity: 0))
        swap(&writer.json, &self)
        body(&writer)
        swap(&writer.json, &self)
        text += "}"
    }

    mutating func array<T>(_ items: [T], _ each: (inout JSONText, T) -> Void) {
        text += "["
        for (index, item) in items.enumerated() {
            if index > 0 { text += "," }
            each(&self, item)
        }
        text += "]"
    }

    mutating func string(_ value: String) {
        text += "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": text += "\\\""
            case "\\": text += "\\\\"
            case "\n": text += "\\n"
            case "\r": text += "\\r"
            case "\t": text += "\\t"
            case let scalar where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                text += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: text.unicodeScalars.append(scalar)
            }
        }
        text += "\""
    }

    mutating func raw(_ json: String) {
        text += json
    }

    struct ObjectWriter {
        var json: JSONText
        private var first = true

        init(json: JSONText) {
            self.json = json
        }

        private mutating func key(_ name: String) {
            if !first { json.raw(",") }
            first = false
            json.raw("\"\(name)\":")
        }

        mutating func field(_ name: String, _ value: String) {
            key(name)
            json.string(value)
        }

        mutating func field(_ name: String, _ value: String?, includeNull: Bool = false) {
            guard let value else {
                if includeNull {
                    key(name)
                    json.raw("null")
                }
                return
            }
            field(name, value)
        }

        mutating func field(_ name: String, _ value: UInt64) {
            key(name)
            json.raw(String(value))
        }

        mutating func field(_ name: String, _ value: Bool) {
            key(name)
            json.raw(value ? "true" : "false")
        }

        mutating func field(_ name: String, _ value: some JSONWritable) {
            key(name)
            value.write(to: &json)
        }

        mutating func field<T>(_ name: String, array: [T], _ each: (inout JSONText, T) -> Void) {
            key(name)
            json.array(array, each)
        }

        mutating func field(_ name: String, encodable value: some Encodable) {
            key(name)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            json.raw((try? encoder.encode(value)).map { String(decoding: $0, as: UTF8.self) } ?? "null")
        }
    }
}

extension Message: JSONWritable {
    func write(to json: inout JSONText) {
        json.object { object in
            object.field("id", id)
            object.field("channelId", channelId)
            object.field("seq", seq)
            object.field("senderId", senderId)
            object.field("text", text)
            object.field("createdAt", createdAt)
            if let metadata { object.field("metadata", encodable: metadata) }
            object.field("editedAt", editedAt)
            if deleted == true { object.field("deleted", true) }
            object.field("replyTo", replyTo)
        }
    }
}

extension Channel: JSONWritable {
    func write(to json: inout JSONText) {
        json.object { object in
            object.field("id", id)
            object.field("name", name)
            object.field("members", array: members) { $0.string($1) }
            object.field("agent", agent)
            object.field("createdBy", createdBy)
            object.field("createdAt", createdAt)
        }
    }
}
