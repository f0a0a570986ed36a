/// The storage contract every log backend implements (LMDB embedded; NATS JetStream for
/// more than one node). Reads are stateless — the caller keeps its position and asks for
/// what follows it — and writes report their commits through `waitForRecords`. Reads of the
/// log are `async`: a replicated backend answers them over the network. Reads of the read
/// models (`readProjections`, `readState`) stay synchronous: every node keeps its own, locally.
public protocol LogStorage: Sendable {
    /// The streams this log holds.
    var streams: [StreamDescriptor] { get }

    /// Appends the requests atomically, in order, and returns once they are durable
    /// (per the configured durability). Concurrent calls share commits.
    func append(_ requests: [AppendRequest]) async throws -> [AppendResult]

    /// Appends one record; the same as a one-element `append(_:)`.
    func append(_ request: AppendRequest) async throws -> AppendResult

    /// The state of one shard.
    func shardInfo(_ shard: ShardKey) async throws -> ShardInfo

    /// Up to `limit` records with seq > `after`, stopping before `maxBytes` is passed
    /// (but always returning at least one record when one exists).
    func loadNext(_ shard: ShardKey, after: SequenceNumber, limit: Int, maxBytes: Int) async throws
        -> [Record]

    /// The record at a position, or nil when it does not exist (never appended or trimmed).
    func record(at position: Position) async throws -> Record?

    /// The first sequence number whose record was appended at or after `time`;
    /// `head + 1` when there is none.
    func firstSequenceNumber(_ shard: ShardKey, atOrAfter time: Timestamp) async throws -> SequenceNumber

    /// The last `channelSeq` assigned in a channel; 0 when it has no records.
    func channelHead(stream: StreamName, channelID: String) async throws -> SequenceNumber

    /// Up to `limit` of a channel's records with channelSeq > `after`, in order.
    func channelRecords(
        stream: StreamName, channelID: String, after: SequenceNumber, limit: Int
    ) async throws -> [Record]

    /// Runs `body` with read-only access to the projections, in one consistent snapshot.
    func readProjections<R>(_ body: (any ProjectionStore) throws -> R) throws -> R

    /// Runs `body` with read-only access to the state tables: small tables kept beside the
    /// log that no record derives (the WebSocket connection registry).
    func readState<R>(_ body: (any ProjectionStore) throws -> R) throws -> R

    /// Runs `body` against the state tables in one write that shares the group commit, and
    /// returns its result once durable. A thrown error undoes only this write.
    @discardableResult func updateState<R: Sendable>(
        _ body: @escaping @Sendable (any ProjectionStore) throws -> R
    ) async throws -> R

    /// Returns true when the shard's head passes `after` (at once if it already has) or
    /// `interrupt` fires, and false when `limit` passes first. Throws `CancellationError` when
    /// the task is cancelled.
    @discardableResult func waitForRecords(
        _ shard: ShardKey, after: SequenceNumber, interrupt: WaitInterrupt?, limit: Duration?
    ) async throws -> Bool

    /// A consumer group's checkpoint on a shard; 0 when it has none.
    func checkpoint(group: String, shard: ShardKey) async throws -> SequenceNumber

    /// Stores a consumer group's checkpoint. It may not pass the shard's head.
    func setCheckpoint(_ seq: SequenceNumber, group: String, shard: ShardKey) async throws

    /// Every stored checkpoint.
    func checkpoints() async throws -> [Checkpoint]

    /// Stores a dead letter.
    func addDeadLetter(_ letter: DeadLetter) async throws

    /// A group's dead letters (every group's when nil), oldest position first.
    func deadLetters(group: String?) async throws -> [DeadLetter]

    /// Removes a dead letter; returns whether it existed.
    func removeDeadLetter(group: String, position: Position) async throws -> Bool

    /// Trims records the streams' retention no longer keeps, never past the slowest
    /// checkpoint unless configured to, and forgets expired idempotency keys.
    func enforceRetention(now: Timestamp) async throws -> RetentionReport

    /// The group as the nodes of a cluster share it, when this log shares `group`; nil when
    /// each node runs it alone from its checkpoint. A shared group's checkpoint is where the
    /// cluster as a whole stands, and setting it moves every node.
    func sharedGroup(_ group: String) -> (any SharedGroup)?
}

extension LogStorage {
    public func sharedGroup(_ group: String) -> (any SharedGroup)? { nil }

    /// Returns when the shard's head passes `after`: at once if it already has.
    /// Throws `CancellationError` when the task is cancelled.
    public func waitForRecords(_ shard: ShardKey, after: SequenceNumber) async throws {
        try await waitForRecords(shard, after: after, interrupt: nil, limit: nil)
    }

    /// The state of each shard, in order.
    public func shardInfos(_ shards: [ShardKey]) async throws -> [ShardInfo] {
        var infos: [ShardInfo] = []
        for shard in shards { infos.append(try await shardInfo(shard)) }
        return infos
    }

    /// The stream's descriptor, or `unknownStream`.
    public func descriptor(_ stream: StreamName) throws(EventLogError) -> StreamDescriptor {
        guard let descriptor = streams.first(where: { $0.name == stream }) else {
            throw .unknownStream(stream)
        }
        return descriptor
    }

    /// Throws unless the stream and shard exist.
    public func validate(_ shard: ShardKey) throws(EventLogError) {
        let descriptor = try descriptor(shard.stream)
        guard (0..<descriptor.shardCount).contains(shard.shard) else {
            throw .unknownShard(shard.stream, shard.shard)
        }
    }
}
