import EventLog
import Foundation
import Testing

@testable import Chat

/// The hand-written parser must accept what JSON is and refuse what it is not, agreeing with
/// Foundation's `JSONDecoder` (which it replaced on the request paths) on every value.
@Suite struct JSONParserTests {
    private func parse(_ text: String) throws -> JSONValue {
        try JSONParser.parse(Array(text.utf8))
    }

    @Test func valuesMatchFoundation() throws {
        let documents = [
            #"{"a":1,"b":[true,false,null],"c":{"d":"e"},"f":-0.5e2,"g":""}"#,
            #"  [1, 2.25, 1e3, -7, 0, 123456789012] "#,
            #""plain""#,
            #""esc\"aped \\ \/ \b\f\n\r\t \u00e9 \ud83d\ude00 \u0000""#,
            #"{"repeated":1,"repeated":2}"#,
            "{\"unicode\":\"héllo wörld ✓\"}",
            "null", "true", "0", "-0", "1E+2", "[]", "{}", "[[[[]]]]",
        ]
        for document in documents {
            let expected = try JSONDecoder().decode(JSONValue.self, from: Data(document.utf8))
            #expect(try parse(document) == expected, "\(document)")
        }
    }

    @Test func refusesWhatIsNotJSON() {
        let documents = [
            "", " ", "{", "}", "[1,]", "{\"a\":1,}", "{a:1}", "{'a':1}", "01", "1.", ".5", "-", "1e", "+1",
            "tru", "nul", "NaN", "Infinity", "1e999", "[1 2]", "{\"a\" 1}", "\"unterminated",
            "\"tab\there\"", "\"bad \\x escape\"", "\"\\u12\"", "\"\\ud83d alone\"", "\"\\ude00\"",
            "{} extra", "[1] // comment", "\u{FEFF}{}",
        ]
        for document in documents {
            #expect(throws: JSONParseError.self, "\(document.debugDescription)") { try parse(document) }
        }
        #expect(throws: JSONParseError.self) { try JSONParser.parse([0x22, 0xFF, 0xFE, 0x22]) }
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
