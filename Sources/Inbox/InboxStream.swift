import EventLog

extension StreamName {
    /// The event inbox API.
    public static let triggers: StreamName = "triggers"
}

extension StreamConfiguration {
    /// `triggers` as chatlog creates it: four shards, events kept a week.
    public static let triggers = StreamConfiguration(
        name: .triggers, shardCount: 4, retention: Retention(maxAge: .seconds(7 * 86_400)))
}
