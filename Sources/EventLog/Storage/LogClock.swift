/// The log's source of time; tests substitute one they control.
public protocol LogClock: Sendable {
    func now() -> Timestamp
}

/// The wall clock.
public struct SystemLogClock: LogClock {
    public init() {}
    public func now() -> Timestamp { Timestamp.now() }
}
