import EventLog

extension StreamName {
    /// Everything chat does: channels, members, messages, agent replies.
    public static let chatEvents: StreamName = "chat_events"
}

extension StreamConfiguration {
    /// `chat_events` as chatlog creates it: four shards, kept forever.
    public static let chatEvents = StreamConfiguration(name: .chatEvents, shardCount: 4)
}
