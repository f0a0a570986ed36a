import ChatServer
import ChatlogTestSupport
import Crypto
import Foundation
import JWTKit
import Synchronization
import Testing

@testable import ChatServer

@Suite(.timeLimit(.minutes(1))) struct AuthTests {
    @Test func es256TokensVerifyWithTheConfiguredPublicKeyAndItsKid() async throws {
        let privateKey = try ES256PrivateKey(backing: P256.Signing.PrivateKey())
        let authority = try await TokenAuthority(
            secret: TestServer.secret, publicKeyPEM: privateKey.publicKey.pemRepresentation,
            publicKeyID: "ops")
        let signer = JWTKeyCollection()
        await signer.add(ecdsa: privateKey, kid: "ops")
        let claims = UserClaims(sub: "carol", exp: ExpirationClaim(value: Date().addingTimeInterval(60)))
        #expect(try await authority.user(fromToken: try await signer.sign(claims, kid: "ops")) == "carol")
        // The same key under another kid, or another key under this kid, is refused.
        let stranger = JWTKeyCollection()
        await stranger.add(ecdsa: try ES256PrivateKey(backing: P256.Signing.PrivateKey()), kid: "ops")
        await #expect(throws: APIError.self) {
            _ = try await authority.user(fromToken: try await stranger.sign(claims, kid: "ops"))
        }
        // HS256 tokens keep working beside it.
        #expect(
            try await authority.user(fromToken: try await authority.mint(user: "dave", ttl: .seconds(60)))
                == "dave")
    }

    @Test func aTokenForAReservedOrMalformedUserIsRefused() async throws {
        let authority = try await TokenAuthority(secret: TestServer.secret)
        // `agent` is the server's own actor: a user with its id could post as the AI anywhere.
        for user in ["agent", "eve\nmallory", String(repeating: "u", count: 257)] {
            let token = try await authority.mint(user: user, ttl: .seconds(60))
            await #expect(throws: APIError.self, "sub \(user.debugDescription)") {
                _ = try await authority.user(fromToken: token)
            }
        }
        #expect(
            try await authority.user(fromToken: try await authority.mint(user: "agentina", ttl: .seconds(60)))
                == "agentina")
    }

    @Test func notBeforeAndIssuedAtAreHonouredWithTheClockLeeway() async throws {
        let authority = try await TokenAuthority(secret: TestServer.secret, clockLeeway: .seconds(30))
        let signer = JWTKeyCollection()
        await signer.add(hmac: HMACKey(from: TestServer.secret), digestAlgorithm: .sha256)
        let now = Date()
        func token(nbf: TimeInterval? = nil, iat: TimeInterval? = nil, exp: TimeInterval = 600) async throws
            -> String
        {
            try await signer.sign(
                UserClaims(
                    sub: "carol", exp: ExpirationClaim(value: now.addingTimeInterval(exp)),
                    nbf: nbf.map { NotBeforeClaim(value: now.addingTimeInterval($0)) },
                    iat: iat.map { IssuedAtClaim(value: now.addingTimeInterval($0)) }))
        }
        for refused in [
            try await token(nbf: 120), try await token(iat: 120), try await token(exp: -60),
        ] {
            await #expect(throws: APIError.self) { _ = try await authority.user(fromToken: refused) }
        }
        // Within the leeway, a clock a little ahead or behind is no reason to refuse.
        for accepted in [try await token(nbf: 10, iat: 10), try await token(exp: -10)] {
            #expect(try await authority.user(fromToken: accepted) == "carol")
        }
    }

    @Test func mintedTokensCarryWholeSecondTimes() async throws {
        let authority = try await TokenAuthority(secret: TestServer.secret)
        let token = try await authority.mint(user: "dave", ttl: .seconds(60))
        let payload = String(token.split(separator: ".")[1])
        var base64 = payload.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base64 += String(repeating: "=", count: (4 - base64.count % 4) % 4)
        let data = try #require(Data(base64Encoded: base64))
        let claims = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        for name in ["exp", "iat"] {
            let value = try #require(claims[name] as? Double, "\(name)")
            #expect(value == value.rounded(), "\(name) is \(value)")
        }
    }

    @Test func aShortSecretIsRefusedAtStart() async throws {
        await #expect(throws: AuthSetupError.self) { _ = try await TokenAuthority(secret: "short") }
    }

    @Test func apiKeysAreStoredHashedAndRevocable() throws {
        let temporary = try TemporaryDirectory()
        defer { temporary.remove() }
        let directory = temporary.path
        let store = APIKeyStore(directory: directory)
        let (key, secret) = try store.create(name: "ingest", scopes: [.events])
        let file = try String(contentsOfFile: directory + "/apikeys.json", encoding: .utf8)
        #expect(!file.contains(secret))
        #expect(ownerOnly(directory + "/apikeys.json"))
        #expect(try store.authenticate(secret) == .init(keyID: key.id, scopes: [.events]))
        #expect(try store.authenticate(secret + "x") == nil)
        // Another process's store (as `chatlog apikey revoke` is) takes effect at once.
        #expect(try APIKeyStore(directory: directory).revoke(id: key.id))
        #expect(try store.authenticate(secret) == nil)
        #expect(try !store.revoke(id: key.id))
    }

    @Test func aKeyFromBeforeScopesHoldsOnlyTheNarrowestAndUnknownScopesGrantNothing() throws {
        let temporary = try TemporaryDirectory()
        defer { temporary.remove() }
        let store = APIKeyStore(directory: temporary.path)
        let (key, secret) = try store.create(name: "old", scopes: [.admin])
        let (other, otherSecret) = try store.create(name: "future", scopes: [.events])
        // Rewrite the file as an older server wrote it (no scopes) and a newer one might.
        var stored =
            try JSONSerialization.jsonObject(
                with: Data(contentsOf: URL(fileURLWithPath: temporary.path + "/apikeys.json")))
            as! [[String: Any]]
        for index in stored.indices {
            if stored[index]["id"] as? String == key.id { stored[index]["scopes"] = nil }
            if stored[index]["id"] as? String == other.id { stored[index]["scopes"] = ["events:delete-all"] }
        }
        try JSONSerialization.data(withJSONObject: stored).write(
            to: URL(fileURLWithPath: temporary.path + "/apikeys.json"))
        #expect(try store.authenticate(secret)?.scopes == [.events])
        #expect(try store.authenticate(otherSecret)?.scopes == [])
        #expect(throws: APIKeyError.self) { try store.create(name: "none", scopes: []) }
    }

    @Test func theDevelopmentSecretIsMadeOnceAndKeptPrivate() throws {
        let temporary = try TemporaryDirectory()
        defer { temporary.remove() }
        let directory = temporary.path
        // Made by whichever of several concurrent first starts wins; all of them read that one.
        let secrets = Mutex<Set<String>>([])
        DispatchQueue.concurrentPerform(iterations: 8) { _ in
            if let secret = try? DevelopmentSecret.load(directory: directory) {
                secrets.withLock { _ = $0.insert(secret) }
            }
        }
        let made = try #require(secrets.withLock { $0.count == 1 ? $0.first : nil })
        #expect(made.count >= 32)
        #expect(try DevelopmentSecret.load(directory: directory) == made)
        #expect(ownerOnly(directory + "/jwt-secret"))
        let left = try FileManager.default.contentsOfDirectory(atPath: directory)
        #expect(left == ["jwt-secret"], "temporary files left: \(left)")
    }

    @Test func keyChangesFromTwoProcessesAtOnceLoseNothing() throws {
        let temporary = try TemporaryDirectory()
        defer { temporary.remove() }
        let directory = temporary.path
        // Two stores on one directory stand for the server and `chatlog apikey` beside it.
        let stores = [APIKeyStore(directory: directory), APIKeyStore(directory: directory)]
        let failures = Mutex(0)
        DispatchQueue.concurrentPerform(iterations: 40) { index in
            do {
                let store = stores[index % 2]
                let (key, _) = try store.create(name: "key \(index)", scopes: [.events])
                if index % 4 == 0 { #expect(try store.revoke(id: key.id)) }
            } catch {
                failures.withLock { $0 += 1 }
            }
        }
        #expect(failures.withLock { $0 } == 0)
        let keys = try APIKeyStore(directory: directory).keys()
        #expect(Set(keys.map(\.name)) == Set((0..<40).map { "key \($0)" }))
        let live = Set(keys.filter { $0.revokedAt == nil }.map(\.name))
        #expect(live == Set((0..<40).filter { $0 % 4 != 0 }.map { "key \($0)" }))
    }

    @Test func aProcessKeyWorksOnlyInItsProcessAndIsNeverWritten() throws {
        let temporary = try TemporaryDirectory()
        defer { temporary.remove() }
        let directory = temporary.path
        let store = APIKeyStore(directory: directory)
        let secret = store.createProcessKey(id: "command-line")
        #expect(
            try store.authenticate(secret) == .init(keyID: "command-line", scopes: Set(APIKeyScope.allCases)))
        #expect(try store.keys().isEmpty)
        #expect(!FileManager.default.fileExists(atPath: directory + "/apikeys.json"))
        // Another process (another store) does not know it, and the file's keys still work.
        #expect(try APIKeyStore(directory: directory).authenticate(secret) == nil)
        let (key, fileSecret) = try APIKeyStore(directory: directory).create(
            name: "ingest", scopes: [.events])
        #expect(try store.authenticate(fileSecret)?.keyID == key.id)
    }

    @Test func readinessIsReportedInTheEnvelope() async throws {
        try await TestServer.run { server in
            server.dependencies.readiness.set(false)
            let starting = expectError(
                try await server.send(.get, "/v1/ready"), .serviceUnavailable, "not_ready")
            #expect((starting["error"]?["details"] as? [String: Any])?["waitingFor"] as? String == "listener")
            #expect(try await server.send(.get, "/v1/health").status == .ok)
            server.dependencies.readiness.set(true)
            #expect(try await server.send(.get, "/v1/ready").status == .ok)
        }
    }

    @Test func readinessWaitsForEveryShardOfARequiredConsumerGroup() async throws {
        try await TestServer.run { server in
            let dependencies = server.dependencies
            let shards = try dependencies.storage.descriptor(.chatEvents).shards.count
            dependencies.readiness.require(group: "agent", status: dependencies.agentStatus, shards: shards)
            let waiting = expectError(
                try await server.send(.get, "/v1/ready"), .serviceUnavailable, "not_ready")
            #expect((waiting["error"]?["details"] as? [String: Any])?["waitingFor"] as? String == "agent")

            let agent = Task { try await TestServer.agentRunner(dependencies).run() }
            // Nothing announces that the last shard started: poll, with a deadline.
            try await eventually("the server is ready once every shard of the group runs") {
                try await server.send(.get, "/v1/ready").status == .ok
            }
            #expect(dependencies.agentStatus.snapshot.values.count(where: \.running) == shards)
            #expect(try await server.send(.get, "/v1/ready").status == .ok)

            // A group that stops makes the server unready again.
            agent.cancel()
            try await agent.value
            expectError(try await server.send(.get, "/v1/ready"), .serviceUnavailable, "not_ready")
        }
    }
}

/// Whether only the file's owner may read or write it.
private func ownerOnly(_ path: String) -> Bool {
    let permissions = (try? FileManager.default.attributesOfItem(atPath: path))?[.posixPermissions] as? Int
    return permissions.map { $0 & 0o077 == 0 } ?? false
}
