import JSONCoding

/// DynamoDB's AttributeValue JSON for a JSON value: `{"S": …}`, `{"N": "…"}`, `{"BOOL": …}`,
/// `{"NULL": true}`, `{"L": [...]}` and `{"M": {...}}`, nested as deep as the value is.
public enum AttributeValue {
    public static func encode(_ value: JSONValue) -> JSONValue {
        switch value {
        case .null: .object(["NULL": .bool(true)])
        case .bool(let flag): .object(["BOOL": .bool(flag)])
        case .number(let number): .object(["N": .string(JSONValue.numberText(number))])
        case .string(let text): .object(["S": .string(text)])
        case .array(let items): .object(["L": .array(items.map(encode))])
        case .object(let members): .object(["M": .object(members.mapValues(encode))])
        }
    }

    /// An item: each attribute's value encoded.
    public static func item(_ attributes: [String: JSONValue]) -> JSONValue {
        .object(attributes.mapValues(encode))
    }
}
