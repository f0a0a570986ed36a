import Chat
import Foundation
import JWTKit
import Synchronization

/// The claims chatlog reads from a bearer token: `sub` is the user; `exp`, `nbf` and `iat` are
/// checked by `TokenAuthority`, with its clock leeway.
struct UserClaims: JWTPayload {
    var sub: SubjectClaim
    var exp: ExpirationClaim
    var nbf: NotBeforeClaim?
    var iat: IssuedAtClaim?

    func verify(using algorithm: some JWTAlgorithm) throws {}
}

/// Verifies bearer tokens (HS256 with the secret; RS256/ES256 with a configured public key and
/// its `kid`, or with the keys of an identity provider's JWKS document) and mints development
/// tokens.
public struct TokenAuthority: Sendable {
    /// The secret's and the public key's; `useKeySet` replaces the collection with one that
    /// also holds a JWKS document's keys.
    private let keys: KeyRing
    private let secret: String
    private let publicKey: (pem: String, id: String)?
    /// Tokens already verified, with their user and expiry: clients send the same token with
    /// every request, and a look-up is far cheaper than a signature check.
    private let verified = VerifiedTokens()
    /// How far the issuer's clock may be from this one: `exp`, `nbf` and `iat` are checked with it.
    private let clockLeeway: TimeInterval

    /// `secret` must have at least 32 bytes (shorter HMAC keys are refused).
    public init(
        secret: String, publicKeyPEM: String? = nil, publicKeyID: String = "public",
        clockLeeway: Duration = .seconds(30)
    ) async throws {
        self.clockLeeway = TimeInterval(clockLeeway.components.seconds)
        guard secret.utf8.count >= 32 else {
            throw AuthSetupError("the JWT secret must have at least 32 bytes")
        }
        self.secret = secret
        publicKey = publicKeyPEM.map { ($0, publicKeyID) }
        keys = KeyRing(try await Self.keys(secret: secret, publicKey: publicKey))
    }

    private static func keys(secret: String, publicKey: (pem: String, id: String)?) async throws
        -> JWTKeyCollection
    {
        let keys = JWTKeyCollection()
        await keys.add(hmac: HMACKey(from: secret), digestAlgorithm: .sha256)
        if let (pem, id) = publicKey {
            if pem.contains("BEGIN PUBLIC KEY"), let key = try? ES256PublicKey(pem: pem) {
                await keys.add(ecdsa: key, kid: JWKIdentifier(string: id))
            } else {
                let key = try Insecure.RSA.PublicKey(pem: pem)
                await keys.add(rsa: key, digestAlgorithm: .sha256, kid: JWKIdentifier(string: id))
            }
        }
        return keys
    }

    /// Accepts tokens signed by the keys of `document`, a JWKS (`{"keys": [...]}`, each key with
    /// its `kid`), in place of any earlier document's: a key the issuer no longer publishes is
    /// refused from now on, and tokens it signed are forgotten. Returns the number of keys.
    @discardableResult
    public func useKeySet(_ document: String) async throws -> Int {
        let set: JWKS
        do {
            set = try JSONDecoder().decode(JWKS.self, from: Data(document.utf8))
        } catch {
            throw AuthSetupError("the JWKS document is not a JSON Web Key Set: \(error)")
        }
        guard !set.keys.isEmpty else { throw AuthSetupError("the JWKS document holds no keys") }
        // An unchanged document (most refreshes) keeps the keys and the verified tokens.
        if keys.current.withLock({ $0.document == document }) { return set.keys.count }
        let replacement = try await Self.keys(secret: secret, publicKey: publicKey)
        do {
            try await replacement.add(jwks: set)
        } catch {
            throw AuthSetupError("a key of the JWKS document cannot be used: \(error)")
        }
        // Under the ring's lock, as `identity` remembers a token: none verified with the old
        // keys is remembered after this.
        keys.current.withLock { keys in
            keys = KeyRing.Keys(collection: replacement, document: document, generation: keys.generation + 1)
            verified.forgetAll()
        }
        return set.keys.count
    }

    /// The user a valid token names.
    public func user(fromToken token: String) async throws -> String {
        try await identity(fromToken: token).user
    }

    /// The user a valid token names, and until when this server accepts it (its `exp` plus
    /// the clock leeway): a WebSocket opened with it is closed then, unless renewed.
    public func identity(fromToken token: String) async throws -> TokenIdentity {
        if let identity = verified.identity(for: token) { return identity }
        let (collection, generation) = keys.current.withLock { ($0.collection, $0.generation) }
        let claims: UserClaims
        do {
            claims = try await collection.verify(token, as: UserClaims.self)
        } catch let error as JWTError {
            throw APIError.unauthorized("invalid token: \(Self.reason(error))")
        } catch {
            throw APIError.unauthorized("invalid token")
        }
        guard !claims.sub.value.isEmpty else { throw APIError.unauthorized("invalid token: no subject") }
        let now = Date()
        guard claims.exp.value.addingTimeInterval(clockLeeway) > now else {
            throw APIError.unauthorized("invalid token: expired")
        }
        if let nbf = claims.nbf, nbf.value > now.addingTimeInterval(clockLeeway) {
            throw APIError.unauthorized("invalid token: not valid before \(nbf.value) (nbf)")
        }
        if let iat = claims.iat, iat.value > now.addingTimeInterval(clockLeeway) {
            throw APIError.unauthorized("invalid token: issued in the future (iat \(iat.value))")
        }
        do {
            try ChatService.validateUserID(claims.sub.value, field: "sub")
        } catch {
            throw APIError.unauthorized("invalid token: \(error)")
        }
        let identity = TokenIdentity(
            user: claims.sub.value, validUntil: claims.exp.value.addingTimeInterval(clockLeeway))
        // Not if the keys changed meanwhile: the key that signed it may be gone.
        keys.current.withLock { keys in
            if keys.generation == generation { verified.remember(token, identity) }
        }
        return identity
    }

    /// An HS256 token for `user`, valid for `ttl`. Its times are whole seconds, as JWT's
    /// numeric dates are.
    public func mint(user: String, ttl: Duration) async throws -> String {
        let now = Date(timeIntervalSince1970: Date().timeIntervalSince1970.rounded(.down))
        let claims = UserClaims(
            sub: SubjectClaim(value: user),
            exp: ExpirationClaim(value: now.addingTimeInterval(Double(ttl.components.seconds))),
            iat: IssuedAtClaim(value: now))
        return try await keys.current.withLock { $0.collection }.sign(claims)
    }

    private static func reason(_ error: JWTError) -> String {
        if error.errorType == .signatureVerificationFailed { return "bad signature" }
        if error.errorType == .malformedToken { return "malformed" }
        return "not a token this server accepts"
    }
}

/// Who a verified token is for, and until when it is accepted.
public struct TokenIdentity: Sendable, Equatable {
    public var user: String
    public var validUntil: Date
}

/// The key collection in use, shared by every copy of the authority: which JWKS document it
/// holds, and a generation that every swap moves on.
final class KeyRing: Sendable {
    struct Keys {
        var collection: JWTKeyCollection
        var document: String?
        var generation = 0
    }

    let current: Mutex<Keys>
    init(_ collection: JWTKeyCollection) { current = Mutex(Keys(collection: collection)) }
}

/// A bounded cache of verified tokens; an entry stops counting when its token expires.
final class VerifiedTokens: Sendable {
    private let entries = Mutex<[String: TokenIdentity]>([:])
    private let capacity = 10_000

    func identity(for token: String) -> TokenIdentity? {
        entries.withLock { entries in
            guard let entry = entries[token] else { return nil }
            guard entry.validUntil > Date() else {
                entries[token] = nil
                return nil
            }
            return entry
        }
    }

    func forgetAll() {
        entries.withLock { $0.removeAll() }
    }

    func remember(_ token: String, _ identity: TokenIdentity) {
        entries.withLock { entries in
            if entries.count >= capacity { entries.removeAll(keepingCapacity: true) }
            entries[token] = identity
        }
    }
}

/// The authentication set-up is unusable.
public struct AuthSetupError: Error, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}
