import EventLog
import Synchronization

/// What a running group is doing, per shard, for `consumers describe` and metrics.
public final class ConsumerStatus: Sendable {
    public struct Shard: Sendable, Equatable {
        public var processed: UInt64 = 0
        public var retries: UInt64 = 0
        public var deadLettered: UInt64 = 0
        /// Checkpoints the full log refused (each is tried again later).
        public var checkpointsRefused: UInt64 = 0
        public var lastError: String?
        /// Attempts on the record currently failing (0 when none is).
        public var failingAttempts = 0
        public var running = false
    }

    private let shards = Mutex<[ShardID: Shard]>([:])

    public init() {}

    public var snapshot: [ShardID: Shard] { shards.withLock { $0 } }

    func update(_ shard: ShardID, _ change: (inout Shard) -> Void) {
        shards.withLock { change(&$0[shard, default: Shard()]) }
    }
}
