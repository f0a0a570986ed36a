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

    func admit(_ caller: String) throws {
        guard configuration.enabled else { return }
        let now = ContinuousClock.now
        let wait: Double? = buckets.withLock { buckets in
            if buckets.count > 100_000 { buckets.removeAll() }
            var bucket = buckets[caller] ?? Bucket(tokens: configuration.burst, updated: now)
            let elapsed = (now - bucket.updated) / .seconds(1)
            bucket.tokens = min(
                configuration.burst, bucket.tokens + elapsed * configuration.requestsPerSecond)
            bucket.updated = now
            defer { buckets[caller] = bucket }
            if bucket.tokens >= 1 {
                bucket.tokens -= 1
                return nil
            }
            return (1 - bucket.tokens) / configuration.requestsPerSecond
        }
        if let wait {
            let seconds = max(1, Int(wait.rounded(.up)))
            var error = APIError(
                .tooManyRequests, code: "rate_limited", message: "too many requests; retry in \(seconds) s",
                details: ["retryAfterSeconds": String(seconds)])
            error.headers[.retryAfter] = String(seconds)
            throw error
        }
    }
}
