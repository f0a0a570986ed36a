import EventLog
import EventLogLMDB
import NATS
import Synchronization

/// A consumer group the nodes share through one durable JetStream pull consumer per shard
/// stream, named after the group.
///
/// The consumer hands out the stream's positions, a batch at a time; acknowledging a batch's
/// last position acknowledges the batch. A batch is as large as the consumer lets out
/// unacknowledged, so while one is out nobody gets the next: a shard's records are handled in
/// order, one node at a time. A node hands its claim's
/// positions to the handler as the records its replica folded them into, once it has folded
/// them. The group's checkpoint is the consumer's ack floor, read as the record it became.
final class JetStreamSharedGroup: SharedGroup {
    let name: String
    private let client: ClusterClient
    private let layout: JetStreamLayout
    private let replica: LMDBStorage
    private let waiters: ProposalWaiters
    private let claimLifetime: Duration
    /// Each shard's subscription to the consumer and its batch size, made on first use and
    /// again after a failure.
    private let subscriptions = Mutex<[ShardKey: (consumer: SharedConsumer, batch: Int)]>([:])

    init(
        name: String, client: ClusterClient, layout: JetStreamLayout, replica: LMDBStorage,
        waiters: ProposalWaiters, claimLifetime: Duration
    ) {
        self.name = name
        self.client = client
        self.layout = layout
        self.replica = replica
        self.waiters = waiters
        self.claimLifetime = claimLifetime
    }

    /// The consumer of `shard` with batches of `batch`, made from `startSequence` when it does
    /// not exist.
    func spec(_ shard: ShardKey, batch: Int, startSequence: UInt64 = 1) -> ConsumerSpec {
        ConsumerSpec(
            stream: layout.streamName(shard), name: name, subjects: layout.subject(shard),
            ackWait: claimLifetime, maxAckPending: min(max(batch, 1), 1024), startSequence: startSequence)
    }

    /// Claims a batch: `limit` sets the batch size when this call makes the consumer; after
    /// that, the consumer's own size holds.
    func claim(_ shard: ShardKey, limit: Int, wait: Duration) async throws -> (any RecordClaim)? {
        let spec = spec(shard, batch: limit)
        let existing = subscriptions.withLock { $0[shard] }
        let messages: [PulledMessage]
        do {
            var subscription = existing
            if subscription == nil {
                subscription = try await client.run { connection in
                    let state = try connection.ensureConsumer(spec)
                    return (try connection.share(spec), max(state.maxAckPending, 1))
                }
            }
            guard let subscription else { return nil }
            subscriptions.withLock { $0[shard] = subscription }
            messages = try await client.run { _ in
                try subscription.consumer.fetch(limit: subscription.batch, timeout: wait)
            }
        } catch {
            subscriptions.withLock { $0[shard] = nil }
            throw error
        }
        guard let last = messages.last else { return nil }
        // The handler gets records as this node folded them: wait until it has.
        try await waiters.waitUntilFolded(shard, through: last.stored.sequence)
        let records = try replica.readState { store in
            try ReplicaOrigins.sequences(messages.map(\.stored.sequence), shard: shard, in: store)
        }
        .compactMap { try replica.record(at: Position(stream: shard.stream, shard: shard.shard, seq: $0)) }
        return JetStreamClaim(records: records, messages: messages, client: client)
    }

    /// The last record the group has processed on `shard`; 0 when its consumer does not exist.
    func checkpoint(_ shard: ShardKey) async throws -> SequenceNumber {
        try await checkpointState(shard)?.seq ?? 0
    }

    /// The group's checkpoint on `shard` and when it last moved; nil when its consumer does
    /// not exist.
    func checkpointState(_ shard: ShardKey) async throws -> (seq: SequenceNumber, updatedAt: Timestamp)? {
        let spec = spec(shard, batch: 1)
        guard let state = try await client.run({ try $0.consumerState(stream: spec.stream, name: spec.name) })
        else { return nil }
        let seq = try replica.readState { store in
            try ReplicaOrigins.sequence(through: state.ackFloor, shard: shard, in: store)
        }
        return (seq, Timestamp(microseconds: state.acknowledgedAt / 1000))
    }

    /// Moves the group on `shard` so that it goes on after record `seq`, on every node: the
    /// consumer is made again, starting at the position record `seq + 1` came from.
    func setCheckpoint(_ seq: SequenceNumber, shard: ShardKey) async throws {
        let head = try replica.shardInfo(shard).head
        guard seq <= head else {
            throw EventLogError.invalidArgument("checkpoint \(seq) is past the head \(head) of \(shard)")
        }
        let start =
            try replica.readState { store in try ReplicaOrigins.source(after: seq, shard: shard, in: store) }
            ?? (try replica.foldedSource(shard) + 1)
        let spec = spec(shard, batch: 1, startSequence: start)
        try await client.run { connection in
            // Made again as it was, from the new start.
            var remade = spec
            if let state = try connection.consumerState(stream: spec.stream, name: spec.name) {
                remade.maxAckPending = max(state.maxAckPending, 1)
                try connection.deleteConsumer(stream: spec.stream, name: spec.name)
            }
            try connection.ensureConsumer(remade)
        }
    }
}

/// A batch of positions a node took from a shared consumer, with the records they became.
final class JetStreamClaim: RecordClaim {
    let records: [Record]
    private let messages: [PulledMessage]
    private let client: ClusterClient

    init(records: [Record], messages: [PulledMessage], client: ClusterClient) {
        self.records = records
        self.messages = messages
        self.client = client
    }

    func complete() async throws {
        guard let last = messages.last else { return }
        try await client.run { _ in try last.acknowledge() }
    }

    func giveBack() async {
        for message in messages { try? message.giveBack() }
    }

    func keepAlive() async {
        for message in messages { try? message.keepAlive() }
    }
}
