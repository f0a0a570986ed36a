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
/// its `kid`) and mints development tokens.
public struct TokenAuthority: Sendable {
    private let keys: JWTKeyCollection
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
        let keys = JWTKeyCollection()
        await keys.add(hmac: HMACKey(from: secret), digestAlgorithm: .sha256)
        if let pem = publicKeyPEM {
            if pem.contains("BEGIN PUBLIC KEY"), let key = try? ES256PublicKey(pem: pem) {
                await keys.add(ecdsa: key, kid: JWKIdentifier(string: publicKeyID))
            } else {
                let key = try Insecure.RSA.PublicKey(pem: pem)
                await keys.add(rsa: key, digestAlgorithm: .sha256, kid: JWKIdentifier(string: publicKeyID))
            }
        }
        self.keys = keys
    }

    /// The user a valid token names.
    public func user(fromToken token: String) async throws -> String {
        try await identity(fromToken: token).user
    }

    /// The user a valid token names, and until when this server accepts it (its `exp` plus
    /// the clock leeway): a WebSocket opened with it is closed then, unless renewed.
    public func identity(fromToken token: String) async throws -> TokenIdentity {
        if let identity = verified.identity(for: token) { return identity }
        let claims: UserClaims
        do {
            claims = try await keys.verify(token, as: UserClaims.self)
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
        verified.remember(token, identity)
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
        return try await keys.sign(claims)
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
