import ChatlogTestSupport
import Crypto
import Foundation
import Hummingbird
import HummingbirdTesting
import JWTKit
import Synchronization
import Testing

@testable import ChatServer

/// Tokens from an identity provider, verified with the keys of its JWKS document, which the
/// server reads from a URL (here a real HTTP server of the test's own) or a file and reads again
/// as the provider rotates its keys.
@Suite(.timeLimit(.minutes(1))) struct JWKSTests {
    /// A signing key as an identity provider holds it, and its public JWK.
    struct ProviderKey {
        let kid: String
        let key = P256.Signing.PrivateKey()

        var jwk: String {
            let raw = key.publicKey.rawRepresentation
            return #"{"kty": "EC", "crv": "P-256", "alg": "ES256", "use": "sig", "kid": "\#(kid)", "#
                + #""x": "\#(Self.base64URL(raw.prefix(32)))", "y": "\#(Self.base64URL(raw.suffix(32)))"}"#
        }

        func token(for user: String) async throws -> String {
            let signer = JWTKeyCollection()
            await signer.add(ecdsa: try ES256PrivateKey(backing: key), kid: JWKIdentifier(string: kid))
            let claims = UserClaims(sub: SubjectClaim(value: user), exp: ExpirationClaim(value: Date() + 300))
            return try await signer.sign(claims, kid: JWKIdentifier(string: kid))
        }

        private static func base64URL(_ bytes: some DataProtocol) -> String {
            Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-")
                .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
        }
    }

    static func keySet(_ keys: ProviderKey...) -> String {
        #"{"keys": [\#(keys.map(\.jwk).joined(separator: ", "))]}"#
    }

    @Test func keysFromAJWKSURLAreAcceptedAndARotationIsFollowed() async throws {
        let first = ProviderKey(kid: "2026-11")
        let second = ProviderKey(kid: "2026-12")
        let published = Mutex(Self.keySet(first))
        let fetches = Mutex(0)
        let router = Router()
        router.get(".well-known/jwks.json") { _, _ in
            fetches.withLock { $0 += 1 }
            return published.withLock { $0 }
        }
        try await Application(router: router).test(.live) { provider in
            let url = "http://127.0.0.1:\(provider.port!)/.well-known/jwks.json"
            try await TestServer.run(configure: {
                $0.auth.jwks = JWKSConfiguration(source: .url(url), refresh: .milliseconds(100))
            }) { server in
                func status(_ token: String) async throws -> Int {
                    try await server.send(.get, "/v1/channels", headers: [.authorization: "Bearer \(token)"])
                        .status.code
                }
                let firstToken = try await first.token(for: "erin")
                #expect(try await status(firstToken) == 200)
                #expect(try await status(try await second.token(for: "erin")) == 401)
                // The provider rotates: the new key is taken, the retired one refused.
                published.withLock { $0 = Self.keySet(second) }
                let secondToken = try await second.token(for: "erin")
                try await eventually("the rotated key is accepted") { try await status(secondToken) == 200 }
                #expect(try await status(firstToken) == 401)
                // An unreadable document keeps the keys read before, read after read.
                published.withLock { $0 = "not json" }
                let before = fetches.withLock { $0 }
                try await eventually("the broken document is read twice") {
                    fetches.withLock { $0 } >= before + 2
                }
                #expect(try await status(secondToken) == 200)
                // HS256 tokens of the server's own secret work beside them.
                #expect(try await server.send(.get, "/v1/channels", as: "alice").status == .ok)
            }
            // A URL that does not answer with a document stops the start, naming the answer.
            let error = await #expect(throws: AuthSetupError.self) {
                try await TestServer.run(configure: {
                    $0.auth.jwks = JWKSConfiguration(source: .url(url + ".missing"))
                }) { _ in }
            }
            #expect(error?.description.contains("answered 404") == true, "\(String(describing: error))")
        }
    }

    @Test func aJWKSFileIsReadAndAnUnusableDocumentStopsTheStart() async throws {
        let key = ProviderKey(kid: "file-key")
        try await TemporaryDirectory.with { directory in
            let file = directory.path + "/jwks.json"
            try Self.keySet(key).write(toFile: file, atomically: true, encoding: .utf8)
            try await TestServer.run(configure: { $0.auth.jwks = JWKSConfiguration(source: .file(file)) }) {
                server in
                let token = try await key.token(for: "frank")
                let response = try await server.send(
                    .get, "/v1/channels", headers: [.authorization: "Bearer \(token)"])
                #expect(response.status == .ok)
            }
            let missing = await #expect(throws: AuthSetupError.self) {
                try await TestServer.run(configure: {
                    $0.auth.jwks = JWKSConfiguration(source: .file(directory.path + "/none.json"))
                }) { _ in }
            }
            #expect(missing?.description.contains("cannot read the JWKS file") == true)
            for (document, reason) in [
                ("{\"keys\": []}", "holds no keys"), ("[1, 2]", "is not a JSON Web Key Set"),
                (
                    "{\"keys\": [{\"kty\": \"EC\", \"crv\": \"P-256\", \"x\": \"AA\", \"y\": \"AA\"}]}",
                    "cannot be used"
                ),
            ] {
                try document.write(toFile: file, atomically: true, encoding: .utf8)
                let error = await #expect(throws: AuthSetupError.self) {
                    try await TestServer.run(configure: {
                        $0.auth.jwks = JWKSConfiguration(source: .file(file))
                    }) {
                        _ in
                    }
                }
                #expect(error?.description.contains(reason) == true, "\(String(describing: error))")
            }
        }
    }
}
