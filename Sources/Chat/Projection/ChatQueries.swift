import EventLog

/// Reads of the chat projection, usable in a read snapshot or by the rules inside an append.
struct ChatQueries {
    let store: any ProjectionStore

    /// A live (not deleted) channel.
    func channel(_ channelID: String) throws -> ChannelState? {
        guard let bytes = try store.get(ChatTables.channels, key: Array(channelID.utf8)) else { return nil }
        let state = try ChannelState(binary: bytes)
        return state.deleted ? nil : state
    }

    func isMember(_ userID: String, of channelID: String) throws -> Bool {
        try store.get(ChatTables.members, key: ChatTables.pair(channelID, userID)) != nil
    }

    /// A channel the user belongs to; `notFound` otherwise, so non-members learn nothing.
    func channel(_ channelID: String, visibleTo userID: String) throws -> ChannelState {
        guard let state = try channel(channelID), try isMember(userID, of: channelID) else {
            throw ChatError.notFound("channel \(channelID) not found")
        }
        return state
    }

    func memberIDs(_ channelID: String) throws -> [String] {
        var members: [String] = []
        try store.scan(ChatTables.members, prefix: ChatTables.prefix(channelID), from: nil, reverse: false) {
            key, _ in
            members.append(ChatTables.second(of: key))
            return true
        }
        return members
    }

    func channelIDs(of userID: String) throws -> [String] {
        var channels: [String] = []
        try store.scan(ChatTables.userChannels, prefix: ChatTables.prefix(userID), from: nil, reverse: false)
        { key, _ in
            channels.append(ChatTables.second(of: key))
            return true
        }
        return channels
    }

    /// The channel as `user` sees it: with their read marker and unread count.
    func view(_ state: ChannelState, for user: String) throws -> Channel {
        let marker = try readMarker(state.id, user: user)
        return Channel(
            id: state.id, name: state.name, members: try memberIDs(state.id), agent: state.agent,
            createdBy: state.createdBy, createdAt: state.createdAt, lastReadSeq: marker,
            unreadCount: try messageCount(state.id, after: marker, limit: Self.maxUnreadCount))
    }

    /// How many messages the channel holds after `seq`, counted up to `limit`: keys only, no
    /// message is copied or decoded.
    func messageCount(_ channelID: String, after seq: UInt64, limit: Int) throws -> Int {
        var count = 0
        try store.scan(
            ChatTables.messages, prefix: ChatTables.prefix(channelID),
            from: ChatTables.message(channelID: channelID, seq: seq + 1), reverse: false
        ) { _, _ in
            count += 1
            return count < limit
        }
        return count
    }

    /// Where the unread count stops counting: a list of channels stays cheap however far
    /// behind its reader is.
    static let maxUnreadCount = 1000

    func readMarker(_ channelID: String, user: String) throws -> UInt64 {
        guard let bytes = try store.get(ChatTables.readMarkers, key: ChatTables.pair(channelID, user)),
            bytes.count == 8
        else { return 0 }
        return bytes.withUnsafeBytes { BigEndian.read($0) }
    }

    func message(_ messageID: String) throws -> Message? {
        guard let key = try store.get(ChatTables.messageIDs, key: Array(messageID.utf8)),
            let bytes = try store.get(ChatTables.messages, key: key)
        else { return nil }
        return try Message(stored: bytes)
    }

    /// Up to `limit` messages with seq in `range`, walking from its low end (`ascending`) or high end.
    func messages(
        _ channelID: String, range: ClosedRange<UInt64>, ascending: Bool, limit: Int
    ) throws -> [Message] {
        try storedMessages(channelID, range: range, ascending: ascending, limit: limit).map {
            try Message(stored: $0.value)
        }
    }

    /// The stored forms of up to `limit` messages with seq in `range`, as `messages` walks them.
    func storedMessages(
        _ channelID: String, range: ClosedRange<UInt64>, ascending: Bool, limit: Int
    ) throws -> [(seq: UInt64, value: [UInt8])] {
        var messages: [(seq: UInt64, value: [UInt8])] = []
        let start = ChatTables.message(
            channelID: channelID, seq: ascending ? range.lowerBound : range.upperBound)
        try store.scan(
            ChatTables.messages, prefix: ChatTables.prefix(channelID), from: start, reverse: !ascending
        ) {
            key, value in
            let seq = ChatTables.seq(ofMessageKey: key)
            guard range.contains(seq), messages.count < limit else { return false }
            messages.append((seq, value))
            return true
        }
        return messages
    }
}
