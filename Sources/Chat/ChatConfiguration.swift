/// Limits and lifetimes of the chat domain.
public struct ChatConfiguration: Sendable {
    /// How long a message's `Idempotency-Key` is remembered.
    public var idempotencyKeyLifetime: Duration = .seconds(24 * 3600)
    /// The longest message text, in bytes of UTF-8.
    public var maxMessageBytes = 64 * 1024
    /// The longest channel name, in characters.
    public var maxChannelNameLength = 200
    /// The most members a channel may be created with.
    public var maxInitialMembers = 1000

    public init() {}
}
