import EventLog

/// A consumer group: a name, the stream it reads, and how it batches and retries.
public struct ConsumerGroupConfiguration: Sendable {
    public var name: String
    public var stream: StreamName
    /// The most records read per batch; the checkpoint advances after each batch.
    public var batchSize = 256
    /// While records keep coming, the checkpoint is stored at most once per interval (zero:
    /// after every batch); it is always stored when a shard goes idle (see below) and when the
    /// group stops. A crash replays at most an interval's records: handlers are idempotent.
    public var checkpointInterval: Duration = .zero
    /// How long a caught-up shard waits for more records before it stores its checkpoint
    /// (zero: at once). Records arriving closer together than this cost no checkpoint sync
    /// between them; the interval above still bounds what a crash replays.
    public var idleCheckpointDelay: Duration = .zero
    /// How soon an idle shard tries again to store a checkpoint the full log refused:
    /// retention cannot trim past the stale one, so waiting for new records could wait forever.
    public var refusedCheckpointRetryDelay: Duration = .seconds(1)
    public var retry = RetryPolicy()

    public init(name: String, stream: StreamName) {
        self.name = name
        self.stream = stream
    }
}

/// Exponential backoff between attempts, up to `maxAttempts`; then the record is dead-lettered.
public struct RetryPolicy: Sendable, Equatable {
    public var maxAttempts = 5
    public var initialBackoff: Duration = .milliseconds(50)
    public var maxBackoff: Duration = .seconds(5)

    public init(
        maxAttempts: Int = 5, initialBackoff: Duration = .milliseconds(50), maxBackoff: Duration = .seconds(5)
    ) {
        self.maxAttempts = maxAttempts
        self.initialBackoff = initialBackoff
        self.maxBackoff = maxBackoff
    }

    /// The pause after failed attempt number `attempt` (1-based): initial × 2^(attempt−1), capped.
    public func delay(afterAttempt attempt: Int) -> Duration {
        var delay = initialBackoff
        for _ in 1..<max(1, attempt) {
            delay = delay * 2
            if delay >= maxBackoff { return maxBackoff }
        }
        return min(delay, maxBackoff)
    }
}

/// What a consumer group does with each record. Throwing asks for a retry.
public protocol RecordHandler: Sendable {
    func handle(_ record: Record) async throws

    /// Called once a record is dead-lettered, after its last attempt.
    func deadLettered(_ record: Record, error: String) async

    /// Called after each batch, once its records are handled and before its checkpoint, and
    /// before the shard waits for more.
    func batchHandled() async
}

extension RecordHandler {
    public func deadLettered(_ record: Record, error: String) async {}
    public func batchHandled() async {}
}
