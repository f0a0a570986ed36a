import JSONCoding

/// An event as the inbox API shows it.
public struct InboxEvent: Equatable, Sendable {
    public enum Status: String, Sendable {
        case pending, acknowledged
    }

    /// A lowercase UUID.
    public var eventId: String
    public var source: String
    public var eventType: String
    /// Any JSON object.
    public var payload: JSONValue
    public var metadata: EventMetadata
    public var status: Status
    /// RFC 3339 with microseconds: when its record was committed.
    public var createdAt: String
    public var acknowledgedAt: String?
}

/// What a poster may say about an event besides its payload.
public struct EventMetadata: Codable, Equatable, Sendable {
    public enum Priority: String, Codable, Sendable, CaseIterable {
        case low, normal, high
    }

    public var correlationId: String?
    /// Kept and shown; it does not change the inbox's order.
    public var priority: Priority
    public var idempotencyKey: String?

    public init(correlationId: String? = nil, priority: Priority = .normal, idempotencyKey: String? = nil) {
        self.correlationId = correlationId
        self.priority = priority
        self.idempotencyKey = idempotencyKey
    }
}

/// What `post` did.
public struct PostedEvent: Sendable, Equatable {
    public var event: InboxEvent
    /// False when an idempotency key returned an earlier event.
    public var created: Bool
}

/// One page of pending events.
public struct InboxPage: Sendable, Equatable {
    /// Oldest first.
    public var events: [InboxEvent]
    /// Continues after the last event; nil at the end.
    public var nextCursor: String?
}

/// The inbox's filters; nil matches everything.
public struct InboxFilter: Sendable, Equatable {
    public var source: String?
    public var eventType: String?

    public init(source: String? = nil, eventType: String? = nil) {
        self.source = source
        self.eventType = eventType
    }
}
