import JSONCoding

/// What clients may send to chat, in one place: `ChatService` checks values against these and
/// the OpenAPI document publishes them.
package enum ChatFields {
    package static let channelName = TextRule(maxLength: 64, requiresVisibleCharacter: true)
    /// A user id, which is also a token's `sub`: OpenID Connect allows 255 ASCII characters.
    package static let userID = TextRule(maxLength: 255)
    package static let messageText = TextRule(
        maxLength: 64 * 1024, maxBytes: 64 * 1024, allowsControlCharacters: true)
    /// The most members a channel may be created with.
    package static let maxInitialMembers = 1000

    /// Throws `ChatError.invalidRequest` naming `field` when `value` breaks `rule`.
    static func check(_ value: String, _ rule: TextRule, field: String) throws(ChatError) {
        if let violation = rule.violation(value, field: field) {
            throw .invalidRequest(violation, details: ["field": field])
        }
    }
}
