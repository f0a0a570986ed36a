import EventLog
import EventLogLMDB
import NATS
import Synchronization

/// A consumer group the nodes share through one durable JetStream pull consumer per shard
/// stream, named after the group.
///
/// The consumer hands out the stream's positions one at a time, and lets out no other while
/// one is unacknowledged: a shard's records are handled in order, each by one node. (A batch
/// of several cannot promise that: a node whose pull came back short leaves the rest to the
/// next pull, perhaps another node's, and acknowledging a later position would acknowledge
/// the unfinished earlier ones too.) A node hands its claim's position to the handler as the
/// record its replica folded it into, once it has folded it. The group's checkpoint is the
/// consumer's ack floor, read as the record it became.
final class JetStreamSharedGroup: SharedGroup {
    let name: String
    private let client: ClusterClient
    private let layout: JetStreamLayout
    private let replica: LMDBStorage
    private let waiters: ProposalWaiters
    private let claimLifetime: Duration
    /// Each shard's idle subscriptions to the consumer: a claim takes one (or makes one) and
    /// puts it back unless it failed. A subscription takes one fetch at a time, and several
    /// runners of one group may claim at once.
    private let subscriptions = Mutex<[ShardKey: [SharedConsumer]]>([:])

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

    /// The consumer of `shard`, made from `startSequence` when it does not exist.
    func spec(_ shard: ShardKey, startSequence: UInt64 = 1) -> ConsumerSpec {
        ConsumerSpec(
            stream: layout.streamName(shard), name: name, subjects: layout.subject(shard),
            ackWait: claimLifetime, maxAckPending: 1, startSequence: startSequence)
    }

    func claim(_ shard: ShardKey, wait: Duration) async throws -> (any RecordClaim)? {
        let spec = spec(shard)
        let idle = subscriptions.withLock { $0[shard]?.popLast() }
        let subscription: SharedConsumer
        if let idle {
            subscription = idle
        } else {
            subscription = try await client.run { connection in
                try connection.ensureConsumer(spec)
                return try connection.share(spec)
            }
        }
        // A failed subscription is dropped: the next claim makes a new one.
        let messages = try await client.run { _ in try subscription.fetch(limit: 1, timeout: wait) }
        subscriptions.withLock { $0[shard, default: []].append(subscription) }
        guard let last = messages.last else { return nil }
        // The handler gets records as this node folded them: wait until it has.
        try await waiters.waitUntilFolded(shard, through: last.stored.sequence)
        let records = try replica.readState { store in
            try ReplicaOrigins.sequences(messages.map(\.stored.sequence), shard: shard, in: store)
        }
        .compactMap { try replica.record(at: Position(stream: shard.stream, shard: shard.shard, seq: $0)) }
        return JetStreamClaim(
            records: records, messages: messages, client: client, keepAliveInterval: claimLifetime / 3)
    }

    /// The last record the group has processed on `shard`; 0 when its consumer does not exist.
    func checkpoint(_ shard: ShardKey) async throws -> SequenceNumber {
        try await checkpointState(shard)?.seq ?? 0
    }

    /// The group's checkpoint on `shard` and when it last moved; nil when its consumer does
    /// not exist.
    func checkpointState(_ shard: ShardKey) async throws -> (seq: SequenceNumber, updatedAt: Timestamp)? {
        let spec = spec(shard)
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
        let spec = spec(shard, startSequence: start)
        // The cluster takes a moment to retire the old consumer's replicas; until then making
        // the new one may fail, or the answer come late. Both steps may be repeated.
        let deadline = ContinuousClock.now + .seconds(20)
        var deleted = false
        while true {
            do {
                if !deleted {
                    _ = try await client.run { try $0.deleteConsumer(stream: spec.stream, name: spec.name) }
                    deleted = true
                }
                _ = try await client.run { try $0.ensureConsumer(spec) }
                return
            } catch  where ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(100))
            }
        }
    }
}

/// The positions a node took from a shared consumer, with the records they became.
final class JetStreamClaim: RecordClaim {
    let records: [Record]
    let keepAliveInterval: Duration
    private let messages: [PulledMessage]
    private let client: ClusterClient

    init(records: [Record], messages: [PulledMessage], client: ClusterClient, keepAliveInterval: Duration) {
        self.records = records
        self.messages = messages
        self.client = client
        self.keepAliveInterval = keepAliveInterval
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
