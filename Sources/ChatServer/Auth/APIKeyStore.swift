import Crypto
import Foundation
import Synchronization

/// Service API keys, stored hashed (SHA-256) in `DIR/apikeys.json`. The server re-reads the
/// file when it changes, so a key created with `chatlog apikey create` works at once.
public final class APIKeyStore: Sendable {
    public struct Key: Codable, Sendable, Equatable {
        public var id: String
        public var name: String
        /// SHA-256 of the key, hex.
        public var hash: String
        public var createdAt: String
        public var revokedAt: String?
    }

    private struct Snapshot {
        /// The file's identity when read: every save renames a new file into place, so a new
        /// inode (or time or size) means the keys changed, even within one clock tick.
        var version: [String]?
        var keys: [Key] = []
    }

    private let path: String
    private let cache = Mutex(Snapshot())

    public init(directory: String) {
        path = directory + "/apikeys.json"
    }

    public func keys() throws -> [Key] {
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path) else { return [] }
        let version = [FileAttributeKey.systemFileNumber, .modificationDate, .size].map {
            "\(attributes[$0] ?? "")"
        }
        if let cached = cache.withLock({ $0.version == version ? $0.keys : nil }) {
            return cached
        }
        let keys = try JSONDecoder().decode([Key].self, from: Data(contentsOf: URL(fileURLWithPath: path)))
        cache.withLock { $0 = Snapshot(version: version, keys: keys) }
        return keys
    }

    /// The id of the live key matching `secret`.
    public func authenticate(_ secret: String) throws -> String? {
        let hash = Self.hash(secret)
        return try keys().first { $0.hash == hash && $0.revokedAt == nil }?.id
    }

    /// Creates a key; returns its record and the secret, which is shown only now.
    public func create(name: String, now: Date = Date()) throws -> (Key, String) {
        let secret = "clk_" + (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255)) }.joined()
        let key = Key(
            id: UUID().uuidString.lowercased(), name: name, hash: Self.hash(secret),
            createdAt: ISO8601DateFormatter().string(from: now))
        try save(try keys() + [key])
        return (key, secret)
    }

    /// Revokes a key by id; false when there is none.
    public func revoke(id: String, now: Date = Date()) throws -> Bool {
        var keys = try keys()
        guard let index = keys.firstIndex(where: { $0.id == id && $0.revokedAt == nil }) else { return false }
        keys[index].revokedAt = ISO8601DateFormatter().string(from: now)
        try save(keys)
        return true
    }

    private func save(_ keys: [Key]) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let temporary = path + ".tmp-\(ProcessInfo.processInfo.processIdentifier)"
        try encoder.encode(keys).write(to: URL(fileURLWithPath: temporary))
        chmod(temporary, 0o600)
        _ = rename(temporary, path)
        cache.withLock { $0 = Snapshot() }
    }

    static func hash(_ secret: String) -> String {
        SHA256.hash(data: Data(secret.utf8)).map { String(format: "%02x", $0) }.joined()
    }
}
