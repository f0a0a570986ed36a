import JSONCoding
import Testing

@testable import DynamoStreams

@Suite struct AttributeValueTests {
    /// The AttributeValue JSON written for `value`, read back.
    private func encoded(_ value: JSONValue) throws -> JSONValue {
        try JSONParser.parse(AttributeValue.value(value))
    }

    @Test func everyJSONTypeHasItsAttributeValue() throws {
        #expect(try encoded(.null) == .object(["NULL": .bool(true)]))
        #expect(try encoded(.bool(false)) == .object(["BOOL": .bool(false)]))
        #expect(try encoded(.string("")) == .object(["S": .string("")]))
        #expect(try encoded(.number(42)) == .object(["N": .string("42")]))
        #expect(try encoded(.number(-0.5)) == .object(["N": .string("-0.5")]))
        #expect(try encoded(.number(1e300)) == .object(["N": .string("1e+300")]))
        #expect(try encoded(.array([])) == .object(["L": .array([])]))
        #expect(try encoded(.object([:])) == .object(["M": .object([:])]))
    }

    @Test func nestedMapsAndListsAreEncodedAllTheWayDown() throws {
        let value = JSONValue.object([
            "a": .array([.number(1), .object(["b": .array([.null, .string("x")])])]),
            "c": .object(["d": .object(["e": .bool(true)])]),
        ])
        let expected = JSONValue.object([
            "M": .object([
                "a": .object([
                    "L": .array([
                        .object(["N": .string("1")]),
                        .object([
                            "M": .object([
                                "b": .object([
                                    "L": .array([
                                        .object(["NULL": .bool(true)]), .object(["S": .string("x")]),
                                    ])
                                ])
                            ])
                        ]),
                    ])
                ]),
                "c": .object([
                    "M": .object(["d": .object(["M": .object(["e": .object(["BOOL": .bool(true)])])])])
                ]),
            ])
        ])
        #expect(try encoded(value) == expected)
        #expect(
            String(decoding: AttributeValue.item(["k": .string("v"), "a": .null]), as: UTF8.self)
                == #"{"a":{"NULL":true},"k":{"S":"v"}}"#)
    }

    @Test func sequenceNumbersAndShardIDsRoundTrip() {
        #expect(SequenceNumbers.format(1) == "100000000000000000001")
        #expect(SequenceNumbers.format(UInt64.max).count == 21)
        #expect(SequenceNumbers.parse(SequenceNumbers.format(123_456)) == 123_456)
        #expect(SequenceNumbers.parse("12") == nil)
        #expect(SequenceNumbers.parse("x00000000000000000001") == nil)
        #expect(ShardIDs.format(3) == "shardId-00000000000000000003")
        #expect(ShardIDs.parse("shardId-00000000000000000003") == 3)
        #expect(ShardIDs.parse("shardId-3") == nil)
    }
}
