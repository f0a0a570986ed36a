import EventLog
import Foundation
import JSONCoding
import Testing

@testable import Chat

/// The hand-written parser must accept what JSON is and refuse what it is not, agreeing with
/// Foundation's `JSONDecoder` (which it replaced on the request paths) on every value.
@Suite(.timeLimit(.minutes(1))) struct JSONParserTests {
    private func parse(_ text: String) throws -> JSONValue {
        try JSONParser.parse(Array(text.utf8))
    }

    @Test func valuesMatchFoundation() throws {
        let documents = [
            #"{"a":1,"b":[true,false,null],"c":{"d":"e"},"f":-0.5e2,"g":""}"#,
            #"  [1, 2.25, 1e3, -7, 0, 123456789012] "#,
            #""plain""#,
            #""esc\"aped \\ \/ \b\f\n\r\t \u00e9 \ud83d\ude00 \u0000""#,
            "{\"unicode\":\"héllo wörld ✓\"}",
            "null", "true", "0", "-0", "1E+2", "[]", "{}", "[[[[]]]]",
        ]
        for document in documents {
            let expected = try JSONDecoder().decode(JSONValue.self, from: Data(document.utf8))
            #expect(try parse(document) == expected, "\(document)")
        }
    }

    @Test func leadingMembersReadOnlyTheFirstFewInOrder() throws {
        func leading(_ text: String, _ count: Int) throws -> [(key: String, value: JSONValue)] {
            try JSONParser.leadingMembers(of: Array(text.utf8), count: count)
        }
        let two = try leading(#" {"b":"x", "a":[1,2], "c":{"deep":true}} "#, 2)
        #expect(two.map(\.key) == ["b", "a"])
        #expect(two.map(\.value) == [.string("x"), .array([.number(1), .number(2)])])
        #expect(try leading(#"{"only":null}"#, 3).count == 1)
        #expect(try leading("{}", 3).isEmpty)
        // What follows the members asked for is not read, so it may be anything.
        #expect(try leading(#"{"a":"x","b": this is not read"#, 1).count == 1)
        for bad in [#"["a"]"#, #"{"a" 1}"#, #"{"a":tru}"#, #"{a:1}"#, ""] {
            #expect(throws: JSONParseError.self, "\(bad)") { try leading(bad, 1) }
        }
    }

    @Test func refusesWhatIsNotJSON() {
        let documents = [
            "", " ", "{", "}", "[1,]", "{\"a\":1,}", "{a:1}", "{'a':1}", "01", "1.", ".5", "-", "1e", "+1",
            "tru", "nul", "NaN", "Infinity", "1e999", "[1 2]", "{\"a\" 1}", "\"unterminated",
            "\"tab\there\"", "\"bad \\x escape\"", "\"\\u12\"", "\"\\ud83d alone\"", "\"\\ude00\"",
            "{} extra", "[1] // comment", "\u{FEFF}{}", #"{"repeated":1,"repeated":2}"#,
            #"{"a":{"b":1,"c":2,"b":3}}"#,
        ]
        for document in documents {
            #expect(throws: JSONParseError.self, "\(document.debugDescription)") { try parse(document) }
        }
        #expect(throws: JSONParseError.self) { try JSONParser.parse([0x22, 0xFF, 0xFE, 0x22]) }
    }

    /// Thousands of byte-level mutations of valid documents: the parser accepts exactly what
    /// `JSONDecoder` accepts and reads the same value from it, except a trailing comma, which
    /// `JSONDecoder` lets through and RFC 8259 does not.
    @Test func agreesWithFoundationOnMutatedDocuments() throws {
        let seeds = [
            #"{"source":"billing","eventType":"invoice.paid","payload":{"n":[1,2.5e3,-0.25,true,null]},"metadata":{"priority":"high"}}"#,
            #"{"text":"h\u00e9llo \"q\" \n","metadata":{"a":{"b":[[],{}]}}}"#,
            #"[0, -1, 1e-7, "\ud83d\ude00", {"k": false}]"#,
        ].map { Array($0.utf8) }
        let alphabet =
            Array(#"{}[]":,.-+eE0123456789\ tnrfu"ab"#.utf8) + [0x00, 0x1F, 0x7F, 0xC3, 0xA9, 0xFF]
        var random = SplitMix(seed: 0x5EED)
        var disagreements: [String] = []
        for round in 0..<6000 {
            var bytes = seeds[round % seeds.count]
            for _ in 0...(random.next() % 3) {
                let position = Int(random.next() % UInt64(bytes.count + 1))
                let byte = alphabet[Int(random.next() % UInt64(alphabet.count))]
                switch random.next() % 3 {
                case 0 where position < bytes.count: bytes[position] = byte
                case 1 where position < bytes.count: bytes.remove(at: position)
                default: bytes.insert(byte, at: position)
                }
            }
            let ours = try? JSONParser.parse(bytes)
            let foundation = try? JSONDecoder().decode(JSONValue.self, from: Data(bytes))
            // JSONDecoder takes a trailing comma and a repeated key; this parser takes neither.
            if ours == nil, foundation != nil, Self.hasTrailingComma(bytes) { continue }
            if ours == nil, foundation != nil, Self.repeatsAKey(bytes) { continue }
            if ours != foundation {
                disagreements.append(String(decoding: bytes, as: UTF8.self).debugDescription)
            }
        }
        #expect(
            disagreements.isEmpty, "\(disagreements.count) disagreements, e.g. \(disagreements.prefix(5))")
    }

    private static func repeatsAKey(_ bytes: [UInt8]) -> Bool {
        do {
            _ = try JSONParser.parse(bytes)
            return false
        } catch {
            return error.message.hasPrefix("duplicate key")
        }
    }

    private static func hasTrailingComma(_ bytes: [UInt8]) -> Bool {
        let significant = bytes.filter { ![0x20, 0x09, 0x0A, 0x0D].contains($0) }
        return zip(significant, significant.dropFirst()).contains {
            $0 == UInt8(ascii: ",") && ($1 == UInt8(ascii: "]") || $1 == UInt8(ascii: "}"))
        }
    }

    @Test func refusesDeepNesting() throws {
        let deep =
            String(repeating: "[", count: JSONParser.maxDepth + 1)
            + String(repeating: "]", count: JSONParser.maxDepth + 1)
        let error = try #require(throws: JSONParseError.self) { try parse(deep) }
        #expect(error.message.contains("nested"))
        let allowed =
            String(repeating: "[", count: JSONParser.maxDepth)
            + String(repeating: "]", count: JSONParser.maxDepth)
        #expect(throws: Never.self) { try parse(allowed) }
    }

    @Test func writesWhatItReads() throws {
        let value = try parse(#"{"b":[1,2.5,"x\n"],"a":{"z":null,"y":true},"n":-3}"#)
        var json = JSONText()
        value.write(to: &json)
        #expect(json.text == #"{"a":{"y":true,"z":null},"b":[1,2.5,"x\n"],"n":-3}"#)
        #expect(try JSONParser.parse(json.bytes) == value)
    }

    @Test func timeOrderedUUIDsSortByTime() throws {
        let early = Timestamp(microseconds: 1_700_000_000_000_000)
        let ids = (0..<100).map {
            RandomUUID.makeTimeOrdered(at: Timestamp(microseconds: early.microseconds + Int64($0) * 1000))
        }
        #expect(ids == ids.sorted())
        #expect(Set(ids).count == ids.count)
        for id in ids {
            let characters = Array(id)
            #expect(UUID(uuidString: id) != nil && characters[14] == "7" && "89ab".contains(characters[19]))
        }
        // 1_700_000_000_000 ms is 0x18bcfe56800.
        #expect(ids[0].hasPrefix("018bcfe5-6800-7"))
    }

    @Test func randomUUIDsAreVersion4AndDistinct() {
        let ids = (0..<1000).map { _ in RandomUUID.make() }
        #expect(Set(ids).count == ids.count)
        for id in ids {
            let parsed = UUID(uuidString: id)
            #expect(parsed != nil && id == id.lowercased())
            let characters = Array(id)
            #expect(characters[14] == "4")
            #expect("89ab".contains(characters[19]))
        }
    }
}

/// A small deterministic generator for the mutation test.
private struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
