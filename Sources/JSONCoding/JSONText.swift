import Foundation

/// A response body written straight to JSON text: faster than `JSONEncoder` for the hot paths
/// (a history page has up to a hundred messages), with the contract's field names spelled once.
package protocol JSONWritable: Sendable {
    func write(to json: inout JSONText)
}

/// JSON text under construction, as UTF-8 bytes.
package struct JSONText {
    package fileprivate(set) var bytes: [UInt8] = []

    package init(capacity: Int = 256) {
        bytes.reserveCapacity(capacity)
    }

    package var text: String { String(decoding: bytes, as: UTF8.self) }

    /// Writes an object whose members `body` adds with `field`.
    package mutating func object(_ body: (inout ObjectWriter) -> Void) {
        bytes.append(UInt8(ascii: "{"))
        // Swapping moves the bytes into the writer and back without copying them.
        var writer = ObjectWriter(json: JSONText(capacity: 0))
        swap(&writer.json, &self)
        body(&writer)
        swap(&writer.json, &self)
        bytes.append(UInt8(ascii: "}"))
    }

    package mutating func array<T>(_ items: [T], _ each: (inout JSONText, T) -> Void) {
        bytes.append(UInt8(ascii: "["))
        // By index: callers in other modules run this unspecialized, where `enumerated()`
        // looks up the metadata of its (offset, element) tuple for every item.
        for index in items.indices {
            if index > 0 { bytes.append(UInt8(ascii: ",")) }
            each(&self, items[index])
        }
        bytes.append(UInt8(ascii: "]"))
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)

    package mutating func string(_ value: String) {
        bytes.append(UInt8(ascii: "\""))
        var value = value
        value.withUTF8 { utf8 in
            var runStart = 0
            for index in utf8.indices {
                let byte = utf8[index]
                guard byte < 0x20 || byte == 0x22 || byte == 0x5C else { continue }
                bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart..<index]))
                runStart = index + 1
                switch byte {
                case 0x22: bytes += [0x5C, 0x22]
                case 0x5C: bytes += [0x5C, 0x5C]
                case 0x0A: bytes += [0x5C, UInt8(ascii: "n")]
                case 0x0D: bytes += [0x5C, UInt8(ascii: "r")]
                case 0x09: bytes += [0x5C, UInt8(ascii: "t")]
                default:
                    bytes += [0x5C, UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0")]
                    bytes += [Self.hexDigits[Int(byte >> 4)], Self.hexDigits[Int(byte & 0xF)]]
                }
            }
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart...]))
        }
        bytes.append(UInt8(ascii: "\""))
    }

    package mutating func raw(_ json: String) {
        bytes.append(contentsOf: json.utf8)
    }

    package mutating func raw(bytes json: some Sequence<UInt8>) {
        bytes.append(contentsOf: json)
    }

    /// Overwrites the last byte written (e.g. an object's closing brace, to continue it).
    package mutating func replaceLastByte(with byte: UInt8) {
        bytes[bytes.count - 1] = byte
    }

    package struct ObjectWriter {
        package var json: JSONText
        private var first = true

        package init(json: JSONText) {
            self.json = json
        }

        private mutating func key(_ name: String) {
            if !first { json.bytes.append(UInt8(ascii: ",")) }
            first = false
            json.bytes.append(UInt8(ascii: "\""))
            json.bytes.append(contentsOf: name.utf8)
            json.bytes.append(contentsOf: [UInt8(ascii: "\""), UInt8(ascii: ":")])
        }

        package mutating func field(_ name: String, _ value: String) {
            key(name)
            json.string(value)
        }

        package mutating func field(_ name: String, _ value: String?, includeNull: Bool = false) {
            guard let value else {
                if includeNull {
                    key(name)
                    json.raw("null")
                }
                return
            }
            field(name, value)
        }

        package mutating func field(_ name: String, _ value: UInt64) {
            key(name)
            json.raw(String(value))
        }

        package mutating func field(_ name: String, _ value: Bool) {
            key(name)
            json.raw(value ? "true" : "false")
        }

        package mutating func field(_ name: String, _ value: some JSONWritable) {
            key(name)
            value.write(to: &json)
        }

        package mutating func field(_ name: String, object body: (inout ObjectWriter) -> Void) {
            key(name)
            json.object(body)
        }

        package mutating func field<T>(_ name: String, array: [T], _ each: (inout JSONText, T) -> Void) {
            key(name)
            json.array(array, each)
        }
    }
}
