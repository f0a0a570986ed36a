import Foundation

/// Why bytes are not JSON, and where.
package struct JSONParseError: Error, Equatable, CustomStringConvertible {
    package var message: String
    /// The byte offset where parsing stopped.
    package var offset: Int

    package var description: String { "\(message) at byte \(offset)" }
}

/// A strict RFC 8259 parser from UTF-8 bytes to `JSONValue`, for the request paths where
/// Foundation's `JSONDecoder` and `Codable` cost more than the rest of a request together.
/// It refuses what `JSONDecoder` refuses: trailing bytes, comments, control characters in
/// strings, lone surrogates, invalid UTF-8, numbers out of range and nesting deeper than 512.
/// Unlike `JSONDecoder`, it also refuses an object that repeats a key: which of the two values
/// counts is left open by RFC 8259, and two readers picking differently is a way to smuggle one
/// value past a check made on the other.
package struct JSONParser {
    package static let maxDepth = 512

    private let bytes: UnsafeRawBufferPointer
    private var offset = 0
    private var depth = 0

    private init(_ bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
    }

    package static func parse(_ bytes: UnsafeRawBufferPointer) throws(JSONParseError) -> JSONValue {
        var parser = JSONParser(bytes)
        let value = try parser.value()
        parser.skipWhitespace()
        guard parser.offset == bytes.count else {
            throw parser.error("unexpected bytes after the JSON value")
        }
        return value
    }

    /// The first `count` members of the object `bytes` holds, in order, without reading the
    /// rest: for a reader that wants a few leading fields of a document it wrote itself. Fewer
    /// when the object has fewer; the bytes after them are not checked.
    package static func leadingMembers(
        of bytes: [UInt8], count: Int
    ) throws -> [(key: String, value: JSONValue)] {
        try bytes.withUnsafeBytes { buffer in
            var parser = JSONParser(buffer)
            parser.skipWhitespace()
            guard parser.current == UInt8(ascii: "{") else { throw parser.error("expected an object") }
            parser.offset += 1
            var members: [(key: String, value: JSONValue)] = []
            while members.count < count {
                parser.skipWhitespace()
                if members.isEmpty, parser.current == UInt8(ascii: "}") { break }
                let member = try parser.member()
                members.append((member.key, member.value))
                parser.skipWhitespace()
                guard parser.current == UInt8(ascii: ",") else { break }
                parser.offset += 1
            }
            return members
        }
    }

    package static func parse(_ bytes: [UInt8]) throws(JSONParseError) -> JSONValue {
        do {
            return try bytes.withUnsafeBytes { try parse($0) }
        } catch let error as JSONParseError {
            throw error
        } catch {
            fatalError("unreachable: \(error)")
        }
    }

    private func error(_ message: String) -> JSONParseError {
        JSONParseError(message: message, offset: offset)
    }

    private var current: UInt8? { offset < bytes.count ? bytes[offset] : nil }

    private mutating func skipWhitespace() {
        while offset < bytes.count {
            switch bytes[offset] {
            case 0x20, 0x09, 0x0A, 0x0D: offset += 1
            default: return
            }
        }
    }

    private mutating func value() throws(JSONParseError) -> JSONValue {
        skipWhitespace()
        guard let byte = current else { throw error("unexpected end of input") }
        switch byte {
        case UInt8(ascii: "{"): return try object()
        case UInt8(ascii: "["): return try array()
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "t"): return try literal("true", .bool(true))
        case UInt8(ascii: "f"): return try literal("false", .bool(false))
        case UInt8(ascii: "n"): return try literal("null", .null)
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try number())
        default: throw error("unexpected character")
        }
    }

    private mutating func literal(_ text: StaticString, _ value: JSONValue) throws(JSONParseError)
        -> JSONValue
    {
        let count = text.utf8CodeUnitCount
        guard bytes.count - offset >= count,
            memcmp(bytes.baseAddress! + offset, text.utf8Start, count) == 0
        else { throw error("unexpected character") }
        offset += count
        return value
    }

    private mutating func enter() throws(JSONParseError) {
        depth += 1
        guard depth <= Self.maxDepth else { throw error("nested more than \(Self.maxDepth) levels deep") }
        offset += 1
    }

    private mutating func leave() {
        depth -= 1
        offset += 1
    }

    private mutating func object() throws(JSONParseError) -> JSONValue {
        try enter()
        var members: [String: JSONValue] = [:]
        skipWhitespace()
        if current == UInt8(ascii: "}") {
            leave()
            return .object(members)
        }
        while true {
            skipWhitespace()
            let keyOffset = offset
            let (key, member) = try self.member()
            guard members.updateValue(member, forKey: key) == nil else {
                throw JSONParseError(message: "duplicate key '\(key)'", offset: keyOffset)
            }
            skipWhitespace()
            switch current {
            case UInt8(ascii: ","): offset += 1
            case UInt8(ascii: "}"):
                leave()
                return .object(members)
            default: throw error("expected ',' or '}'")
            }
        }
    }

    /// One `"key": value` member of an object, from its key's opening quote.
    private mutating func member() throws(JSONParseError) -> (key: String, value: JSONValue) {
        guard current == UInt8(ascii: "\"") else { throw error("expected a string key") }
        let key = try string()
        skipWhitespace()
        guard current == UInt8(ascii: ":") else { throw error("expected ':'") }
        offset += 1
        return (key, try value())
    }

    private mutating func array() throws(JSONParseError) -> JSONValue {
        try enter()
        var elements: [JSONValue] = []
        skipWhitespace()
        if current == UInt8(ascii: "]") {
            leave()
            return .array(elements)
        }
        while true {
            elements.append(try value())
            skipWhitespace()
            switch current {
            case UInt8(ascii: ","): offset += 1
            case UInt8(ascii: "]"):
                leave()
                return .array(elements)
            default: throw error("expected ',' or ']'")
            }
        }
    }

    private mutating func string() throws(JSONParseError) -> String {
        offset += 1
        let start = offset
        // The common case: no escapes, so the bytes are the string.
        while offset < bytes.count {
            let byte = bytes[offset]
            if byte == UInt8(ascii: "\"") {
                let text = try validated(UnsafeRawBufferPointer(rebasing: bytes[start..<offset]), at: start)
                offset += 1
                return text
            }
            if byte == UInt8(ascii: "\\") { break }
            guard byte >= 0x20 else { throw error("control character in a string") }
            offset += 1
        }
        var decoded = [UInt8](UnsafeRawBufferPointer(rebasing: bytes[start..<offset]))
        while offset < bytes.count {
            let byte = bytes[offset]
            switch byte {
            case UInt8(ascii: "\""):
                offset += 1
                guard let text = String(validating: decoded, as: UTF8.self) else {
                    throw JSONParseError(message: "invalid UTF-8 in a string", offset: start)
                }
                return text
            case UInt8(ascii: "\\"):
                offset += 1
                try escape(into: &decoded)
            default:
                guard byte >= 0x20 else { throw error("control character in a string") }
                decoded.append(byte)
                offset += 1
            }
        }
        throw error("unterminated string")
    }

    private func validated(_ utf8: UnsafeRawBufferPointer, at start: Int) throws(JSONParseError) -> String {
        guard let text = String(validating: utf8, as: UTF8.self) else {
            throw JSONParseError(message: "invalid UTF-8 in a string", offset: start)
        }
        return text
    }

    private mutating func escape(into decoded: inout [UInt8]) throws(JSONParseError) {
        guard let byte = current else { throw error("unterminated string") }
        offset += 1
        switch byte {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): decoded.append(byte)
        case UInt8(ascii: "b"): decoded.append(0x08)
        case UInt8(ascii: "f"): decoded.append(0x0C)
        case UInt8(ascii: "n"): decoded.append(0x0A)
        case UInt8(ascii: "r"): decoded.append(0x0D)
        case UInt8(ascii: "t"): decoded.append(0x09)
        case UInt8(ascii: "u"):
            var scalar = UInt32(try hex4())
            if (0xD800..<0xDC00).contains(scalar) {
                guard bytes.count - offset >= 2, bytes[offset] == UInt8(ascii: "\\"),
                    bytes[offset + 1] == UInt8(ascii: "u")
                else { throw error("unpaired surrogate in a string") }
                offset += 2
                let low = UInt32(try hex4())
                guard (0xDC00..<0xE000).contains(low) else { throw error("unpaired surrogate in a string") }
                scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
            } else if (0xDC00..<0xE000).contains(scalar) {
                throw error("unpaired surrogate in a string")
            }
            decoded.append(contentsOf: String(Character(Unicode.Scalar(scalar)!)).utf8)
        default: throw error("invalid escape in a string")
        }
    }

    private mutating func hex4() throws(JSONParseError) -> UInt16 {
        guard bytes.count - offset >= 4 else { throw error("unterminated string") }
        var value: UInt16 = 0
        for _ in 0..<4 {
            let byte = bytes[offset]
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: throw error("invalid \\u escape in a string")
            }
            value = value << 4 | UInt16(digit)
            offset += 1
        }
        return value
    }

    private mutating func number() throws(JSONParseError) -> Double {
        let start = offset
        if current == UInt8(ascii: "-") { offset += 1 }
        guard let first = current, isDigit(first) else { throw error("expected a digit") }
        offset += 1
        if first != UInt8(ascii: "0") { skipDigits() }
        if current == UInt8(ascii: ".") {
            offset += 1
            guard let digit = current, isDigit(digit) else { throw error("expected a digit after '.'") }
            skipDigits()
        }
        if current == UInt8(ascii: "e") || current == UInt8(ascii: "E") {
            offset += 1
            if current == UInt8(ascii: "+") || current == UInt8(ascii: "-") { offset += 1 }
            guard let digit = current, isDigit(digit) else { throw error("expected a digit in the exponent") }
            skipDigits()
        }
        let text = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<offset]), as: UTF8.self)
        guard let value = Double(text), value.isFinite else {
            throw JSONParseError(message: "number out of range", offset: start)
        }
        return value
    }

    private func isDigit(_ byte: UInt8) -> Bool {
        byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
    }

    private mutating func skipDigits() {
        while let byte = current, isDigit(byte) { offset += 1 }
    }
}

extension JSONValue: JSONWritable {
    /// A number's text: whole numbers below 2^53 without a fraction, others as Swift prints
    /// them (the shortest text that reads back the same).
    package static func numberText(_ value: Double) -> String {
        value.rounded() == value && abs(value) < 9_007_199_254_740_992
            ? String(Int64(value)) : value.description
    }

    /// The value as JSON text.
    package var bytes: [UInt8] {
        var json = JSONText(capacity: 256)
        write(to: &json)
        return json.bytes
    }

    /// Objects with their keys sorted, as the `JSONEncoder` the API used before wrote them;
    /// whole numbers below 2^53 without a fraction.
    package func write(to json: inout JSONText) {
        switch self {
        case .null: json.raw("null")
        case .bool(let value): json.raw(value ? "true" : "false")
        case .number(let value): json.raw(Self.numberText(value))
        case .string(let value): json.string(value)
        case .array(let values): json.array(values) { $1.write(to: &$0) }
        case .object(let members):
            json.raw("{")
            for (index, key) in members.keys.sorted().enumerated() {
                if index > 0 { json.raw(",") }
                json.string(key)
                json.raw(":")
                members[key]!.write(to: &json)
            }
            json.raw("}")
        }
    }
}
