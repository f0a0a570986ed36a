import Foundation
import Synchronization

/// A token bucket per caller. Over the limit a request gets 429 with `Retry-After`.
public final class RateLimiter: Sendable {
    private struct Bucket {
        var tokens: Double
        var updated: ContinuousClock.Instant
    }

    private let configuration: RateLimitConfiguration
    private let buckets = Mutex<[String: Bucket]>([:])

    public init(configuration: RateLimitConfiguration) {
        self.configuration = configuration
    }

    /// Takes a token for `caller`; 429 when there is none.
    func admit(_ caller: String) throws {
        if let wait = take(caller, spend: true) { throw Self.refusal(waiting: wait) }
    }

    /// 429 when `caller` has no token left, without taking one.
    func check(_ caller: String) throws {
        if let wait = take(caller, spend: false) { throw Self.refusal(waiting: wait) }
    }

    /// Takes a token, or only looks; returns how long until one is there when there is none.
    private func take(_ caller: String, spend: Bool) -> Double? {
        guard configuration.enabled else { return nil }
        let now = ContinuousClock.now
        return buckets.withLock { buckets in
            // A caller with no bucket has its whole burst: looking needs no entry made for it.
            guard spend || buckets[caller] != nil else { return nil }
            if buckets.count > 100_000 { buckets.removeAll() }
            var bucket = buckets[caller] ?? Bucket(tokens: configuration.burst, updated: now)
            let elapsed = (now - bucket.updated) / .seconds(1)
            bucket.tokens = min(
                configuration.burst, bucket.tokens + elapsed * configuration.requestsPerSecond)
            bucket.updated = now
            defer { buckets[caller] = bucket }
            if bucket.tokens >= 1 {
                if spend { bucket.tokens -= 1 }
                return nil
            }
            return (1 - bucket.tokens) / configuration.requestsPerSecond
        }
    }

    private static func refusal(waiting wait: Double) -> APIError {
        let seconds = max(1, Int(wait.rounded(.up)))
        var error = APIError(
            .tooManyRequests, code: "rate_limited", message: "too many requests; retry in \(seconds) s",
            details: ["retryAfterSeconds": String(seconds)])
        error.headers[.retryAfter] = String(seconds)
        return error
    }
}

/// Per client address, before anyone is known: failed authentications and WebSocket upgrades
/// are rate-limited, so that nobody can try tokens or keys, or churn upgrades, as fast as the
/// server answers.
public final class AddressGuards: Sendable {
    private let failures: RateLimiter
    private let upgrades: RateLimiter

    public init(configuration: RateLimitConfiguration = RateLimitConfiguration()) {
        var failures = configuration
        failures.requestsPerSecond = configuration.failedAuthenticationsPerSecond
        failures.burst = configuration.failedAuthenticationBurst
        var upgrades = configuration
        upgrades.requestsPerSecond = configuration.upgradesPerSecond
        upgrades.burst = configuration.upgradeBurst
        self.failures = RateLimiter(configuration: failures)
        self.upgrades = RateLimiter(configuration: upgrades)
    }

    /// Authenticates with `verify`; a failure counts against `address`, and an address out of
    /// failures gets 429 without its credentials being looked at.
    func authenticate<Identity>(from address: String, _ verify: () async throws -> Identity) async throws
        -> Identity
    {
        try failures.check(address)
        do {
            return try await verify()
        } catch let error as APIError where error.status == .unauthorized {
            try failures.admit(address)
            throw error
        }
    }

    /// 429 once `address` upgrades faster than the limit.
    func admitUpgrade(from address: String) throws {
        try upgrades.admit(address)
    }
}
