/// Lifetimes of the chat domain (the limits on what clients send are `ChatFields`).
public struct ChatConfiguration: Sendable {
    /// How long a message's `Idempotency-Key` is remembered.
    public var idempotencyKeyLifetime: Duration = .seconds(24 * 3600)

    public init() {}
}
