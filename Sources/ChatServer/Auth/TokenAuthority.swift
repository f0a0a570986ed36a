import Foundation
import JWTKit

/// The claims chatlog reads from a bearer token: `sub` is the user, `exp` is enforced.
struct UserClaims: JWTPayload {
    var sub: SubjectClaim
    var exp: ExpirationClaim
    var iat: IssuedAtClaim?

    func verify(using algorithm: some JWTAlgorithm) throws {
        try exp.verifyNotExpired()
    }
}

/// Verifies bearer tokens (HS256 with the secret; RS256/ES256 with a configured public key and
/// its `kid`) and mints development tokens.
public struct TokenAuthority: Sendable {
    private let keys: JWTKeyCollection

    /// `secret` must have at least 32 bytes (shorter HMAC keys are refused).
    public init(secret: String, publicKeyPEM: String? = nil, publicKeyID: String = "public") async throws {
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
        let claims: UserClaims
        do {
            claims = try await keys.verify(token, as: UserClaims.self)
        } catch let error as JWTError {
            throw APIError.unauthorized("invalid token: \(Self.reason(error))")
        } catch {
            throw APIError.unauthorized("invalid token")
        }
        guard !claims.sub.value.isEmpty else { throw APIError.unauthorized("invalid token: no subject") }
        return claims.sub.value
    }

    /// An HS256 token for `user`, valid for `ttl`.
    public func mint(user: String, ttl: Duration) async throws -> String {
        let now = Date()
        let claims = UserClaims(
            sub: SubjectClaim(value: user),
            exp: ExpirationClaim(value: now.addingTimeInterval(Double(ttl.components.seconds))),
            iat: IssuedAtClaim(value: now))
        return try await keys.sign(claims)
    }

    private static func reason(_ error: JWTError) -> String {
        let text = "\(error)".lowercased()
        if text.contains("expired") || text.contains("exp") { return "expired" }
        if text.contains("signature") { return "bad signature" }
        return "not a token this server accepts"
    }
}

/// The authentication set-up is unusable.
public struct AuthSetupError: Error, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}
