import EventLog
import LMDB

/// A node's replica of a replicated log. The replicated log (JetStream) orders proposals:
/// append requests with the id and time their node gave them. Every replica folds the same
/// proposals in the same order through the same append path, judging each against the state
/// its predecessors left, so every replica numbers, admits and refuses alike: the order is
/// decided once, by the replicated log, and the rules once per position, deterministically.
extension LMDBStorage {
    /// The state table where a replica keeps, per shard, the replicated log's position it has
    /// folded through; pass it among `stateTables` when opening a replica.
    public static let replicaSourceTable = "replica_source"

    /// Folds proposals the replicated log ordered for `shard`, in one group commit, and notes
    /// that the replica has folded the replicated log through `source`. Returns each
    /// proposal's outcome, as an append would have: its record (or the original, for a
    /// repeated idempotency key), or the error that refused it.
    public func fold(_ proposals: [Proposal], shard: ShardKey, through source: UInt64) async throws
        -> [Result<AppendResult, any Error>]
    {
        let maxPayloadBytes = configuration.maxPayloadBytes
        return try await writing { context in
            guard let sources = context.tables.state[Self.replicaSourceTable] else {
                throw EventLogError.storage(
                    "the replica was opened without its \(Self.replicaSourceTable) table")
            }
            var appender = RecordAppender(context: context, random: IDRandomSource())
            var outcomes: [Result<AppendResult, any Error>] = []
            for proposal in proposals {
                let request = proposal.request
                do {
                    guard let descriptor = context.streams[request.stream] else {
                        throw EventLogError.unknownStream(request.stream)
                    }
                    try request.validate(maxPayloadBytes: maxPayloadBytes)
                    let target = Partitioner.shard(
                        for: request.partitionKey, shardCount: descriptor.shardCount)
                    guard request.stream == shard.stream, target == shard.shard else {
                        throw EventLogError.invalidArgument("the proposal belongs to another shard")
                    }
                } catch {
                    outcomes.append(.failure(error))
                    continue
                }
                do {
                    outcomes.append(.success(try appender.append(request, as: proposal.identity)))
                } catch let refusal as AppendRefusal {
                    // Refusals come before any write: the rest of the fold goes on.
                    outcomes.append(.failure(refusal.error))
                }
            }
            context = appender.context
            try context.transaction.put(
                sources, key: StorageKeys.shard(shard), value: BigEndian.bytes(source))
            return outcomes
        }
    }

    /// The replicated log's position this replica has folded `shard` through; 0 at first.
    public func foldedSource(_ shard: ShardKey) throws -> UInt64 {
        try readState { store in
            try store.get(Self.replicaSourceTable, key: StorageKeys.shard(shard)).map {
                $0.withUnsafeBytes { BigEndian.read($0) }
            } ?? 0
        }
    }

    /// The record a still-valid idempotency key points to, if this replica holds it.
    public func record(idempotencyKey: String, stream: StreamName) throws -> Record? {
        try reading { transaction in
            let stored = try transaction.withValue(
                tables.idempotency, key: StorageKeys.idempotency(stream: stream, key: idempotencyKey)
            ) { $0.flatMap(StoredPosition.init) }
            guard let stored else { return nil }
            if stored.expiresAt != 0, stored.expiresAt <= clock.now().microseconds { return nil }
            return try StoredRecords.record(
                at: stored.seq, shard: ShardKey(stream: stream, shard: stored.shard), in: transaction,
                tables: tables)
        }
    }

    /// Runs every projection's rules for `request` against the read models as they are now.
    public func admit(_ request: AppendRequest) throws {
        guard !projections.isEmpty else { return }
        try readProjections { store in
            for projection in projections { try projection.admit(request, given: store) }
        }
    }
}

/// An append request as a replicated log ordered it, with the id and time its node gave it.
public struct Proposal: Sendable {
    public var request: AppendRequest
    public var identity: RecordIdentity

    public init(request: AppendRequest, identity: RecordIdentity) {
        self.request = request
        self.identity = identity
    }
}
