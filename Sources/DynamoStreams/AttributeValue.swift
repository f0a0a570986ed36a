import JSONCoding

/// DynamoDB's AttributeValue JSON for a JSON value: `{"S": …}`, `{"N": "…"}`, `{"BOOL": …}`,
/// `{"NULL": true}`, `{"L": [...]}` and `{"M": {...}}`, nested as deep as the value is.
/// Written straight to JSON text: a `GetRecords` answer holds thousands of them.
public enum AttributeValue {
    /// An item (attribute names sorted) as AttributeValue JSON.
    public static func item(_ attributes: [String: JSONValue]) -> [UInt8] {
        var json = JSONText(capacity: 512)
        writeItem(attributes, to: &json)
        return json.bytes
    }

    /// One value as AttributeValue JSON.
    public static func value(_ value: JSONValue) -> [UInt8] {
        var json = JSONText(capacity: 64)
        write(value, to: &json)
        return json.bytes
    }

    static func writeItem(_ attributes: [String: JSONValue], to json: inout JSONText) {
        json.raw("{")
        for (index, name) in attributes.keys.sorted().enumerated() {
            if index > 0 { json.raw(",") }
            json.string(name)
            json.raw(":")
            write(attributes[name]!, to: &json)
        }
        json.raw("}")
    }

    static func write(_ value: JSONValue, to json: inout JSONText) {
        switch value {
        case .null: json.raw(#"{"NULL":true}"#)
        case .bool(let flag): json.raw(flag ? #"{"BOOL":true}"# : #"{"BOOL":false}"#)
        case .number(let number):
            json.raw(#"{"N":"#)
            json.string(JSONValue.numberText(number))
            json.raw("}")
        case .string(let text):
            json.raw(#"{"S":"#)
            json.string(text)
            json.raw("}")
        case .array(let items):
            json.raw(#"{"L":["#)
            for (index, item) in items.enumerated() {
                if index > 0 { json.raw(",") }
                write(item, to: &json)
            }
            json.raw("]}")
        case .object(let members):
            json.raw(#"{"M":"#)
            writeItem(members, to: &json)
            json.raw("}")
        }
    }
}
