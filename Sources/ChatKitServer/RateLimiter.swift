import ChatKitCore
import Synchronization

/// A token bucket per user: `rate` requests per second sustained, bursts up to twice that.
final class RateLimiter: Sendable {
    private struct Bucket {
        var tokens: Double
        var updatedAt: Duration
    }

    private let rate: Double
    private let burst: Double
    private let buckets = Mutex<[UserID: Bucket]>([:])

    init(requestsPerSecond: Int) {
        rate = Double(max(1, requestsPerSecond))
        burst = rate * 2
    }

    /// Takes a token for `user` at `now`; returns `nil` if allowed, or how long to wait before retrying.
    func acquire(_ user: UserID, now: Duration) -> Duration? {
        buckets.withLock { buckets in
            var bucket = buckets[user] ?? Bucket(tokens: burst, updatedAt: now)
            let elapsed = Double((now - bucket.updatedAt) / .seconds(1))
            bucket.tokens = min(burst, bucket.tokens + elapsed * rate)
            bucket.updatedAt = now
            defer { buckets[user] = bucket }
            if bucket.tokens >= 1 {
                bucket.tokens -= 1
                return nil
            }
            return .seconds((1 - bucket.tokens) / rate)
        }
    }
}
