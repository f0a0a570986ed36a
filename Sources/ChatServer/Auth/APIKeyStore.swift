import Crypto
import Foundation
import Synchronization

/// Service API keys, stored hashed (SHA-256) in `DIR/apikeys.json`. The server re-reads the
/// file when it changes, so a key created with `chatlog apikey create` works at once.
///
/// Each key made since the DynamoDB Streams API also carries an AWS-style credential for it
/// (an access key id and a secret access key, for SigV4): the secret is kept sealed with the
/// key in `DIR/credential-key` (`CredentialSealer`), and revoking the key revokes it.
///
/// A process may also hold keys of its own, never written to the file, which live as long as
/// the process: the server's key for the command line (see `ServerAddress.adminKey`).
public final class APIKeyStore: Sendable {
    public struct Key: Codable, Sendable, Equatable {
        public var id: String
        public var name: String
        /// SHA-256 of the key, hex.
        public var hash: String
        public var createdAt: String
        public var revokedAt: String?
        /// What the key may do. Absent in keys made before scopes existed: those get
        /// `APIKeyScope.legacy`, the narrowest.
        public var scopes: [String]?
        /// The SigV4 credential's access key id; absent in keys made before it existed.
        public var accessKeyId: String?
        /// Its secret access key, sealed (base64 of AES-GCM's combined box).
        public var sealedSecretAccessKey: String?

        /// The scopes the key grants; names this server does not know grant nothing.
        public var granted: Set<APIKeyScope> {
            guard let scopes else { return APIKeyScope.legacy }
            return Set(scopes.compactMap(APIKeyScope.init(rawValue:)))
        }
    }

    /// An authenticated key: its id and what it may do.
    public struct Caller: Sendable, Equatable {
        public var keyID: String
        public var scopes: Set<APIKeyScope>

        public init(keyID: String, scopes: Set<APIKeyScope>) {
            self.keyID = keyID
            self.scopes = scopes
        }
    }

    private struct Snapshot {
        /// The file's identity when read: every save renames a new file into place, so a new
        /// inode (or time or size) means the keys changed, even within one clock tick.
        var version: [Int]?
        var keys: [Key] = []
        /// Live keys' hashes → callers.
        var live: [String: Caller] = [:]
    }

    /// A key's SigV4 credential, shown once when the key is made.
    public struct SigV4Credential: Sendable, Equatable {
        public var accessKeyId: String
        public var secretAccessKey: String
    }

    private let path: String
    private let sealer: CredentialSealer
    private let cache = Mutex(Snapshot())
    /// This process's own keys, which hold every scope: hashes → callers.
    private let processKeys = Mutex<[String: Caller]>([:])

    public init(directory: String) {
        path = directory + "/apikeys.json"
        sealer = CredentialSealer(directory: directory)
    }

    public func keys() throws -> [Key] {
        try snapshot().keys
    }

    /// The keys as of the file's current version (one `stat` when unchanged).
    private func snapshot() throws -> Snapshot {
        var status = stat()
        guard stat(path, &status) == 0 else { return Snapshot() }
        let version = [
            Int(status.st_ino), Int(status.st_mtim.tv_sec), Int(status.st_mtim.tv_nsec), Int(status.st_size),
        ]
        if let cached = cache.withLock({ $0.version == version ? $0 : nil }) {
            return cached
        }
        let keys = try JSONDecoder().decode([Key].self, from: Data(contentsOf: URL(fileURLWithPath: path)))
        let live = Dictionary(
            keys.filter { $0.revokedAt == nil }.map { ($0.hash, Caller(keyID: $0.id, scopes: $0.granted)) },
            uniquingKeysWith: { first, _ in first })
        let snapshot = Snapshot(version: version, keys: keys, live: live)
        cache.withLock { $0 = snapshot }
        return snapshot
    }

    /// The live key matching `secret`.
    public func authenticate(_ secret: String) throws -> Caller? {
        let hash = Self.hash(secret)
        if let caller = processKeys.withLock({ $0[hash] }) { return caller }
        return try snapshot().live[hash]
    }

    /// Creates a key with `scopes`; returns its record and the secret, which is shown only now.
    public func create(name: String, scopes: Set<APIKeyScope>, now: Date = Date()) throws -> (Key, String) {
        let (key, secret, _) = try issue(name: name, scopes: scopes, now: now)
        return (key, secret)
    }

    /// Creates a key with `scopes`; returns its record, the secret and its SigV4 credential,
    /// which are shown only now.
    public func issue(name: String, scopes: Set<APIKeyScope>, now: Date = Date()) throws -> (
        Key, String, SigV4Credential
    ) {
        guard !scopes.isEmpty else { throw APIKeyError.noScopes }
        let secret = Self.newSecret()
        let credential = SigV4Credential(
            accessKeyId: "AKCL" + String((0..<16).map { _ in Self.accessKeyAlphabet.randomElement()! }),
            secretAccessKey: Data((0..<30).map { _ in UInt8.random(in: 0...255) }).base64EncodedString())
        let key = Key(
            id: UUID().uuidString.lowercased(), name: name, hash: Self.hash(secret),
            createdAt: ISO8601DateFormatter().string(from: now), scopes: scopes.map(\.rawValue).sorted(),
            accessKeyId: credential.accessKeyId,
            sealedSecretAccessKey: try sealer.seal(credential.secretAccessKey))
        try update { $0.append(key) }
        return (key, secret, credential)
    }

    private static let accessKeyAlphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")

    /// The secret access key of a live key's SigV4 credential, with the key as a caller; nil
    /// when no live key has that access key id.
    public func sigV4Secret(accessKeyId: String) throws -> (secret: String, caller: Caller)? {
        guard
            let key = try snapshot().keys.first(where: {
                $0.accessKeyId == accessKeyId && $0.revokedAt == nil
            }),
            let sealed = key.sealedSecretAccessKey, let secret = sealer.open(sealed)
        else { return nil }
        return (secret, Caller(keyID: key.id, scopes: key.granted))
    }

    /// Creates a key with every scope that only this process knows and that ends with it;
    /// returns its secret.
    public func createProcessKey(id: String) -> String {
        let secret = Self.newSecret()
        processKeys.withLock {
            $0[Self.hash(secret)] = Caller(keyID: id, scopes: Set(APIKeyScope.allCases))
        }
        return secret
    }

    private static func newSecret() -> String {
        "clk_" + (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255)) }.joined()
    }

    /// Revokes a key by id; false when there is none.
    public func revoke(id: String, now: Date = Date()) throws -> Bool {
        try update { keys in
            guard let index = keys.firstIndex(where: { $0.id == id && $0.revokedAt == nil }) else {
                return false
            }
            keys[index].revokedAt = ISO8601DateFormatter().string(from: now)
            return true
        }
    }

    /// A read-modify-write of the file under an exclusive lock, so that two processes changing
    /// keys at once (the command line beside a server, say) never lose each other's change.
    private func update<Result>(_ change: (inout [Key]) throws -> Result) throws -> Result {
        let descriptor = open(path + ".lock", O_CREAT | O_RDWR | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        defer { close(descriptor) }
        while flock(descriptor, LOCK_EX) != 0 {
            guard errno == EINTR else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        }
        var keys = try snapshot().keys
        let result = try change(&keys)
        try save(keys)
        return result
    }

    private func save(_ keys: [Key]) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try PrivateFile.write(try encoder.encode(keys), to: path)
        cache.withLock { $0 = Snapshot() }
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)

    static func hash(_ secret: String) -> String {
        var hex: [UInt8] = []
        hex.reserveCapacity(64)
        for byte in SHA256.hash(data: Array(secret.utf8)) {
            hex.append(hexDigits[Int(byte >> 4)])
            hex.append(hexDigits[Int(byte & 0x0F)])
        }
        return String(decoding: hex, as: UTF8.self)
    }
}

/// What an API key may do; a key holds one or more.
public enum APIKeyScope: String, CaseIterable, Sendable, Comparable {
    /// The event inbox: post, list, acknowledge and delete events.
    case events
    /// Consumer groups and dead letters under `/v1/admin`.
    case admin
    /// The stream read API.
    case streamsRead = "streams:read"

    /// What a key made before scopes existed holds: the inbox, the narrowest useful scope.
    public static let legacy: Set<APIKeyScope> = [.events]

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }
}

public enum APIKeyError: Error, CustomStringConvertible {
    case noScopes

    public var description: String {
        switch self {
        case .noScopes: "a key needs at least one scope"
        }
    }
}
