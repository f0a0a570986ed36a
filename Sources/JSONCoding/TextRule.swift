/// A rule for a text field clients send, kept in one place: the service checks values with it
/// and the OpenAPI document publishes it as JSON Schema, so the two cannot disagree.
///
/// Lengths count Unicode scalars, as JSON Schema's `maxLength` does.
package struct TextRule: Sendable {
    package var maxLength: Int
    /// A limit in bytes of UTF-8 as well, which JSON Schema cannot state: the schema then
    /// publishes it as `maxLength` (a looser bound) and in its description.
    package var maxBytes: Int?
    /// Whether C0 controls and DEL may appear (a message's newlines and tabs, say).
    package var allowsControlCharacters = false
    /// Whether the value needs a character other than white space.
    package var requiresVisibleCharacter = false

    package init(
        maxLength: Int, maxBytes: Int? = nil, allowsControlCharacters: Bool = false,
        requiresVisibleCharacter: Bool = false
    ) {
        self.maxLength = maxLength
        self.maxBytes = maxBytes
        self.allowsControlCharacters = allowsControlCharacters
        self.requiresVisibleCharacter = requiresVisibleCharacter
    }

    /// Why `value` breaks the rule, as a message naming `field`; nil when it does not.
    package func violation(_ value: String, field: String) -> String? {
        var count = 0
        var visible = false
        for scalar in value.unicodeScalars {
            count += 1
            if !allowsControlCharacters, Self.isControl(scalar) {
                return "\(field) must not contain control characters"
            }
            visible = visible || !scalar.properties.isWhitespace
        }
        guard (1...maxLength).contains(count) else {
            return "\(field) must have 1 to \(maxLength) characters"
        }
        if let maxBytes, value.utf8.count > maxBytes {
            return "\(field) must have at most \(maxBytes) bytes of UTF-8"
        }
        guard visible || !requiresVisibleCharacter else { return "\(field) must not be blank" }
        return nil
    }

    /// The rule as a JSON Schema (a JSON object's text).
    package var schema: String {
        var json = JSONText()
        json.object { object in
            object.field("type", "string")
            object.field("minLength", UInt64(1))
            object.field("maxLength", UInt64(min(maxLength, maxBytes ?? maxLength)))
            if let pattern { object.field("pattern", pattern) }
            if let maxBytes { object.field("description", "at most \(maxBytes) bytes of UTF-8") }
        }
        return json.text
    }

    /// An ECMA-262 pattern for the character rules, or nil when there are none.
    private var pattern: String? {
        let allowed = allowsControlCharacters ? #"[\s\S]"# : #"[^\u0000-\u001f\u007f]"#
        let visible = allowsControlCharacters ? #"\S"# : #"[^\s\u0000-\u001f\u007f]"#
        switch (allowsControlCharacters, requiresVisibleCharacter) {
        case (true, false): return nil
        case (false, false): return "^\(allowed)+$"
        case (_, true): return "^\(allowed)*\(visible)\(allowed)*$"
        }
    }

    private static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value < 0x20 || scalar.value == 0x7F
    }
}
