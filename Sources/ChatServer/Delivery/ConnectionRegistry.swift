import Chat
import EventLog
import Foundation

/// The delivery connections and their subscriptions, kept in the log's state tables as API
/// Gateway's connections table kept them; inspection reads them, and a start clears what a
/// crashed process left behind.
public struct ConnectionRegistry: Sendable {
    /// connection id → `Entry` (JSON).
    public static let connectionsTable = "delivery.connections"
    /// connection id, NUL, channel id → nothing.
    public static let subscriptionsTable = "delivery.subscriptions"
    /// The state tables a log must open for the registry.
    public static let tables = [connectionsTable, subscriptionsTable]

    /// One registered connection.
    public struct Entry: Codable, Sendable, Equatable {
        public var connectionId: String
        public var userId: String
        public var connectedAt: String
        public var channels: [String]
    }

    let storage: any LogStorage

    public init(storage: any LogStorage) {
        self.storage = storage
    }

    func connected(_ session: DeliverySession) async throws {
        let entry = Entry(
            connectionId: session.id, userId: session.user, connectedAt: Timestamp.now().rfc3339, channels: []
        )
        let value = Array(try JSONEncoder().encode(entry))
        try await storage.updateState { store in
            try store.put(Self.connectionsTable, key: Array(session.id.utf8), value: value)
        }
    }

    func disconnected(_ session: DeliverySession) async throws {
        let id = session.id
        try await storage.updateState { store in
            try store.delete(Self.connectionsTable, key: Array(id.utf8))
            for key in try Self.subscriptionKeys(of: id, in: store) {
                try store.delete(Self.subscriptionsTable, key: key)
            }
        }
    }

    func subscribed(_ session: DeliverySession, to channelID: String) async throws {
        let key = Self.subscriptionKey(session.id, channelID)
        try await storage.updateState { try $0.put(Self.subscriptionsTable, key: key, value: []) }
    }

    func unsubscribed(_ session: DeliverySession, from channelID: String) async throws {
        let key = Self.subscriptionKey(session.id, channelID)
        try await storage.updateState { try $0.delete(Self.subscriptionsTable, key: key) }
    }

    /// Removes every entry; returns how many connections there were.
    func clear() async throws -> Int {
        try await storage.updateState { store in
            var keys: [(String, [UInt8])] = []
            for table in Self.tables {
                try store.scan(table, prefix: [], from: nil, reverse: false) { key, _ in
                    keys.append((table, key))
                    return true
                }
            }
            for (table, key) in keys { try store.delete(table, key: key) }
            return keys.count { $0.0 == Self.connectionsTable }
        }
    }

    /// Every registered connection with its channels.
    public func entries() throws -> [Entry] {
        try storage.readState { store in
            var entries: [Entry] = []
            try store.scan(Self.connectionsTable, prefix: [], from: nil, reverse: false) { _, value in
                var entry = try JSONDecoder().decode(Entry.self, from: Data(value))
                entry.channels = try Self.subscriptionKeys(of: entry.connectionId, in: store).map {
                    String(decoding: $0.dropFirst(entry.connectionId.utf8.count + 1), as: UTF8.self)
                }
                entries.append(entry)
                return true
            }
            return entries
        }
    }

    private static func subscriptionKey(_ connectionID: String, _ channelID: String) -> [UInt8] {
        Array(connectionID.utf8) + [0] + Array(channelID.utf8)
    }

    private static func subscriptionKeys(of connectionID: String, in store: any ProjectionStore) throws
        -> [[UInt8]]
    {
        var keys: [[UInt8]] = []
        try store.scan(subscriptionsTable, prefix: Array(connectionID.utf8) + [0], from: nil, reverse: false)
        {
            key, _ in
            keys.append(key)
            return true
        }
        return keys
    }
}
