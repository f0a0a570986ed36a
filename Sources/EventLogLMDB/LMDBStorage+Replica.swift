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

    /// The state table where a replica keeps, per shard, which record each position of the
    /// replicated log became (positions whose proposal was refused or repeated have none).
    public static let replicaOriginTable = "replica_origin"

    /// The state tables a replica needs beside its own.
    public static let replicaTables = [replicaSourceTable, replicaOriginTable]

    /// Folds proposals the replicated log ordered for `shard`, in one group commit, and notes
    /// that the replica has folded the replicated log through `source`. Returns each
    /// proposal's outcome, as an append would have: its record (or the original, for a
    /// repeated idempotency key), or the error that refused it.
    public func fold(_ proposals: [Proposal], shard: ShardKey, through source: UInt64) async throws
        -> [Result<AppendResult, any Error>]
    {
        let maxPayloadBytes = configuration.maxPayloadBytes
        return try await writing { context in
            guard let sources = context.tables.state[Self.replicaSourceTable],
                let origins = context.tables.state[Self.replicaOriginTable]
            else {
                throw EventLogError.storage("the replica was opened without its tables")
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
                    let result = try appender.append(request, as: proposal.identity)
                    if !result.isDuplicate {
                        try appender.context.transaction.put(
                            origins, key: ReplicaOrigins.key(shard, source: proposal.source),
                            value: BigEndian.bytes(result.record.seq))
                    }
                    outcomes.append(.success(result))
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
    /// Its position in the replicated log; 0 until the log has ordered it.
    public var source: UInt64

    public init(request: AppendRequest, identity: RecordIdentity, source: UInt64 = 0) {
        self.request = request
        self.identity = identity
        self.source = source
    }
}

/// Which record each position of the replicated log became, in a replica's
/// `replicaOriginTable`. Both numberings grow together, so a range of one is a range of the
/// other.
public enum ReplicaOrigins {
    static func key(_ shard: ShardKey, source: UInt64) -> [UInt8] {
        StorageKeys.shard(shard) + BigEndian.bytes(source)
    }

    private static func number(_ bytes: [UInt8]) -> UInt64 {
        bytes.withUnsafeBytes { BigEndian.read($0) }
    }

    /// The records the positions `sources` became, in order; positions that became none are
    /// left out.
    public static func sequences(_ sources: [UInt64], shard: ShardKey, in store: any ProjectionStore) throws
        -> [SequenceNumber]
    {
        try sources.compactMap { source in
            try store.get(LMDBStorage.replicaOriginTable, key: key(shard, source: source)).map(number)
        }
    }

    /// The last record made from a position at or before `source`; 0 when none was.
    public static func sequence(through source: UInt64, shard: ShardKey, in store: any ProjectionStore) throws
        -> SequenceNumber
    {
        var found: SequenceNumber = 0
        try store.scan(
            LMDBStorage.replicaOriginTable, prefix: StorageKeys.shard(shard),
            from: key(shard, source: source),
            reverse: true
        ) { _, value in
            found = number(value)
            return false
        }
        return found
    }

    /// The position the first record after `seq` came from; nil when there is none yet.
    public static func source(after seq: SequenceNumber, shard: ShardKey, in store: any ProjectionStore)
        throws
        -> UInt64?
    {
        let prefix = StorageKeys.shard(shard)
        var found: UInt64?
        try store.scan(LMDBStorage.replicaOriginTable, prefix: prefix, from: nil, reverse: false) {
            key, value in
            guard number(value) > seq else { return true }
            found = number(Array(key[prefix.count...]))
            return false
        }
        return found
    }

    /// Forgets the positions of records before `first` (trimmed); returns how many.
    public static func forget(before first: SequenceNumber, shard: ShardKey, in store: any ProjectionStore)
        throws -> Int
    {
        var stale: [[UInt8]] = []
        try store.scan(
            LMDBStorage.replicaOriginTable, prefix: StorageKeys.shard(shard), from: nil, reverse: false
        ) { key, value in
            guard number(value) < first, stale.count < 10_000 else { return false }
            stale.append(key)
            return true
        }
        for key in stale { try store.delete(LMDBStorage.replicaOriginTable, key: key) }
        return stale.count
    }
}
