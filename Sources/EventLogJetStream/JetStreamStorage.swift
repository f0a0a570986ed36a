import EventLog
import EventLogLMDB
import Foundation
import Logging
import NATS
import NIOPosix
import Synchronization

/// The log on a NATS JetStream cluster, shared by several chatlog nodes.
///
/// JetStream holds the log and decides its order: each shard is a replicated stream, and an
/// append is acknowledged once the stream's quorum holds it. Each node follows every stream
/// into a replica in its data directory (an LMDB log of the same records, with the read
/// models folded from them), and serves reads from it. An append returns once this node has
/// folded it, so a client reads its own writes on the node it wrote to.
///
/// An append is a proposal: the request with the id and time this node gave it, published to
/// its shard's stream. JetStream orders the proposals; every node folds them in that order
/// through the LMDB append path, judging each against the state the ones before it left. So
/// sequence numbers, `channelSeq`, the read models' rules and idempotency come out the same on
/// every node, whoever proposed what and however their proposals raced. (A conditional
/// publish could not promise this: nats-server 2.9 checks `Nats-Expected-Last-Subject-Sequence`
/// before replicating, and two racing publishes can both pass, nats-io/nats-server#4320.)
public final class JetStreamStorage: LogStorage, LogMaintenance {
    private let replica: LMDBStorage
    private let client: ClusterClient
    private let layout: JetStreamLayout
    private let configuration: LogConfiguration
    private let settings: JetStreamSettings
    private let clock: any LogClock
    private let logger: Logger
    private let followers: [ShardFollower]
    private let readOnly: Bool
    private let closed = Atomic<Bool>(false)
    private let waiters: ProposalWaiters
    /// The groups the nodes share, by name.
    private let sharedGroups: [String: JetStreamSharedGroup]
    /// The shared groups' dead letters (the other groups' stay in the replica), once opened:
    /// the bucket is made with the first letter, so a cluster that never sets one aside
    /// carries no bucket for it.
    private let sharedDeadLetters = Mutex<KeyValueBucket?>(nil)

    public var streams: [StreamDescriptor] { replica.streams }

    /// Connects to the cluster, checks the streams, and starts following them into the
    /// replica in `directory`. Read-only, it reads the replica as this node last folded it
    /// (beside a running node) and asks the cluster only where shared groups stand.
    public init(
        directory: String, configuration: LogConfiguration, settings: JetStreamSettings,
        readOnly: Bool = false, projections: [any Projection] = [], stateTables: [String] = [],
        clock: any LogClock = SystemLogClock(), logger: Logger = Logger(label: "chatlog.log")
    ) throws {
        // JetStream's quorum makes an append durable; the replica is rebuilt from it. Its
        // commits need not wait for the disk: LMDB stays consistent on a crash, and the fold
        // resumes from the source position of the last commit that survived.
        var replicaConfiguration = configuration
        replicaConfiguration.durability = .relaxed(syncInterval: .seconds(1))
        let replica = try LMDBStorage(
            directory: directory, configuration: replicaConfiguration, readOnly: readOnly,
            projections: projections,
            stateTables: stateTables + LMDBStorage.replicaTables, clock: clock, logger: logger)
        let connection: NATSConnection
        let waiters: ProposalWaiters
        let layout = JetStreamLayout(prefix: settings.prefix)
        do {
            connection = try Self.connect(settings)
            // The streams are declared, not made here: `chatlog cluster apply` makes them.
            var wanted = configuration
            wanted.streams = replica.streams.map { descriptor in
                var stream =
                    configuration.stream(descriptor.name)
                    ?? StreamConfiguration(name: descriptor.name, shardCount: 1)
                stream.shardCount = descriptor.shardCount
                return stream
            }
            let pending = try Self.specs(wanted, settings).map {
                Self.change(for: $0, current: try connection.streamState($0.name))
            }.filter { $0.action != .keep }
            if !pending.isEmpty, !readOnly {
                connection.close()
                throw EventLogError.storage(
                    "the JetStream streams are not as configured (\(pending.map(\.description).joined(separator: "; "))); "
                        + "run `chatlog cluster apply` with this configuration")
            }
            waiters = ProposalWaiters(
                folded: Dictionary(
                    uniqueKeysWithValues: try replica.streams.flatMap(\.shards).map {
                        ($0, try replica.foldedSource($0))
                    }))
        } catch {
            replica.close()
            throw error
        }
        self.replica = replica
        self.layout = layout
        self.configuration = configuration
        self.settings = settings
        self.clock = clock
        self.logger = logger
        // The client's calls block: they run on threads of their own.
        let pool = NIOThreadPool(numberOfThreads: readOnly ? 2 : settings.publishConcurrency)
        pool.start()
        let client = ClusterClient(connection: connection, pool: pool)
        self.client = client
        self.waiters = waiters
        self.sharedGroups = Dictionary(
            uniqueKeysWithValues: settings.sharedGroups.map {
                (
                    $0,
                    JetStreamSharedGroup(
                        name: $0, client: client, layout: layout, replica: replica, waiters: waiters,
                        claimLifetime: settings.claimLifetime)
                )
            })
        self.readOnly = readOnly
        self.followers =
            readOnly
            ? []
            : replica.streams.flatMap(\.shards).map {
                ShardFollower(
                    shard: $0, layout: layout, connection: connection, replica: replica, waiters: waiters,
                    logger: logger)
            }
    }

    /// Deletes the JetStream streams of a log's configuration, with every record they hold;
    /// returns how many existed. Blocks.
    @discardableResult
    public static func removeStreams(configuration: LogConfiguration, settings: JetStreamSettings) throws
        -> Int
    {
        let connection = try connect(settings)
        defer { connection.close() }
        var removed = 0
        for spec in specs(configuration, settings) where try connection.deleteStream(spec.name) {
            removed += 1
        }
        if let bucket = JetStreamLayout(prefix: settings.prefix).deadLetterBucket(settings),
            try connection.deleteStream("KV_\(bucket)")
        {
            removed += 1
        }
        return removed
    }

    // MARK: - Appends

    /// Appends each request in turn, once all of them are valid. JetStream stores one message
    /// atomically, not several: a refusal part-way leaves the earlier records appended.
    public func append(_ requests: [AppendRequest]) async throws -> [AppendResult] {
        for request in requests {
            _ = try descriptor(request.stream)
            try request.validate(maxPayloadBytes: configuration.maxPayloadBytes)
        }
        var results: [AppendResult] = []
        for request in requests { results.append(try await append(request)) }
        return results
    }

    public func append(_ request: AppendRequest) async throws -> AppendResult {
        if readOnly { throw EventLogError.readOnly }
        let descriptor = try descriptor(request.stream)
        try request.validate(maxPayloadBytes: configuration.maxPayloadBytes)
        let shard = ShardKey(
            stream: request.stream,
            shard: Partitioner.shard(for: request.partitionKey, shardCount: descriptor.shardCount))
        // What this node already knows refuses or answers at once; the fold decides the rest.
        if let key = request.idempotencyKey,
            let original = try replica.record(idempotencyKey: key, stream: request.stream)
        {
            return AppendResult(record: original, isDuplicate: true)
        }
        if let expected = request.expectedChannelHead, let channelID = request.channelID {
            let actual = try replica.channelHead(stream: request.stream, channelID: channelID)
            if actual != expected {
                throw EventLogError.channelHeadMoved(channelID: channelID, expected: expected, actual: actual)
            }
        }
        try replica.admit(request)
        let now = clock.now()
        let identity = RecordIdentity(
            id: RecordID(time: now, random: UInt64.random(in: .min ... .max)), time: now)
        let (data, headers) = ProposalMessage.encode(
            Proposal(request: request, identity: identity), shard: shard.shard)
        let subject = layout.subject(shard)
        waiters.expect(identity.id)
        let waiters = waiters
        guard request.idempotencyKey != nil else {
            // Without a key JetStream drops nothing, and this node's follower gets only what
            // the stream's quorum committed: the proposal coming back through it acknowledges
            // the append as the publish's answer would, with one round trip fewer and no
            // thread held waiting.
            do {
                try await client.run { try $0.send(subject: subject, data: data, headers: headers) }
            } catch {
                waiters.forget(identity.id)
                throw error
            }
            return try await withDeadline(
                settings.timeout, "JetStream has not confirmed the append in time; it may still be stored"
            ) {
                try await waiters.outcome(identity.id)
            }
        }
        let ack: PublishAck
        do {
            ack = try await client.run { try $0.publish(subject: subject, data: data, headers: headers) }
        } catch {
            waiters.forget(identity.id)
            throw error
        }
        if ack.isDuplicate, let key = request.idempotencyKey {
            // JetStream kept the first proposal with this key and dropped this one.
            waiters.forget(identity.id)
            return try await duplicate(of: key, stream: request.stream, shard: shard, source: ack.sequence)
        }
        return try await withDeadline(
            settings.timeout * 2, "the append is stored in JetStream but this node has not folded it yet"
        ) {
            try await waiters.outcome(identity.id)
        }
    }

    /// The record an idempotency key points to, once the replica has folded the proposal at
    /// `source` that first used it.
    private func duplicate(of key: String, stream: StreamName, shard: ShardKey, source: UInt64) async throws
        -> AppendResult
    {
        let waiters = waiters
        try await withDeadline(
            settings.timeout * 2, "this node has not folded the first append with key \(key)"
        ) {
            try await waiters.waitUntilFolded(shard, through: source)
        }
        guard let original = try replica.record(idempotencyKey: key, stream: stream) else {
            throw EventLogError.invalidArgument(
                "idempotency key \(key) was used by an append that was refused; use a new key")
        }
        return AppendResult(record: original, isDuplicate: true)
    }

    // MARK: - Reads: the replica

    public func shardInfo(_ shard: ShardKey) async throws -> ShardInfo { try replica.shardInfo(shard) }

    public func loadNext(_ shard: ShardKey, after: SequenceNumber, limit: Int, maxBytes: Int) async throws
        -> [Record]
    {
        try replica.loadNext(shard, after: after, limit: limit, maxBytes: maxBytes)
    }

    public func record(at position: Position) async throws -> Record? { try replica.record(at: position) }

    public func firstSequenceNumber(_ shard: ShardKey, atOrAfter time: Timestamp) async throws
        -> SequenceNumber
    {
        try replica.firstSequenceNumber(shard, atOrAfter: time)
    }

    public func channelHead(stream: StreamName, channelID: String) async throws -> SequenceNumber {
        try replica.channelHead(stream: stream, channelID: channelID)
    }

    public func channelRecords(
        stream: StreamName, channelID: String, after: SequenceNumber, limit: Int
    ) async throws -> [Record] {
        try replica.channelRecords(stream: stream, channelID: channelID, after: after, limit: limit)
    }

    public func readProjections<R>(_ body: (any ProjectionStore) throws -> R) throws -> R {
        try replica.readProjections(body)
    }

    public func readState<R>(_ body: (any ProjectionStore) throws -> R) throws -> R {
        try replica.readState(body)
    }

    @discardableResult public func updateState<R: Sendable>(
        _ body: @escaping @Sendable (any ProjectionStore) throws -> R
    ) async throws -> R {
        try await replica.updateState(body)
    }

    @discardableResult public func waitForRecords(
        _ shard: ShardKey, after: SequenceNumber, interrupt: WaitInterrupt?, limit: Duration?
    ) async throws -> Bool {
        try await replica.waitForRecords(shard, after: after, interrupt: interrupt, limit: limit)
    }

    // MARK: - Consumer state: the cluster's for shared groups, this node's for the others

    public func sharedGroup(_ group: String) -> (any SharedGroup)? { sharedGroups[group] }

    public func checkpoint(group: String, shard: ShardKey) async throws -> SequenceNumber {
        guard let shared = sharedGroups[group] else {
            return try replica.checkpoint(group: group, shard: shard)
        }
        try replica.validate(shard)
        return try await shared.checkpoint(shard)
    }

    public func setCheckpoint(_ seq: SequenceNumber, group: String, shard: ShardKey) async throws {
        guard let shared = sharedGroups[group] else {
            return try await replica.setCheckpoint(seq, group: group, shard: shard)
        }
        try replica.validate(shard)
        if readOnly { throw EventLogError.readOnly }
        try await shared.setCheckpoint(seq, shard: shard)
    }

    public func checkpoints() async throws -> [Checkpoint] {
        var checkpoints = try replica.checkpoints().filter { sharedGroups[$0.group] == nil }
        for (name, group) in sharedGroups.sorted(by: { $0.key < $1.key }) {
            for shard in streams.flatMap(\.shards) {
                guard let state = try await group.checkpointState(shard) else { continue }
                checkpoints.append(
                    Checkpoint(
                        group: name, stream: shard.stream, shard: shard.shard, seq: state.seq,
                        updatedAt: state.updatedAt))
            }
        }
        return checkpoints
    }

    public func addDeadLetter(_ letter: DeadLetter) async throws {
        guard sharedGroups[letter.group] != nil else { return try await replica.addDeadLetter(letter) }
        try replica.validate(letter.position.shardKey)
        if readOnly { throw EventLogError.readOnly }
        let key = layout.deadLetterKey(group: letter.group, position: letter.position)
        let value = Array(try JSONEncoder().encode(letter))
        try await client.run { try self.deadLetterBucket($0, create: true)!.put(key, value) }
    }

    public func deadLetters(group: String?) async throws -> [DeadLetter] {
        if let group, sharedGroups[group] == nil { return try replica.deadLetters(group: group) }
        var letters = group == nil ? try replica.deadLetters(group: nil) : []
        let shared = try await client.run { connection -> [[UInt8]] in
            guard let bucket = try self.deadLetterBucket(connection, create: false) else { return [] }
            return try bucket.keys().filter { group == nil || $0.hasPrefix("\(group!).") }.compactMap {
                try bucket.value($0)
            }
        }
        letters += try shared.map { try JSONDecoder().decode(DeadLetter.self, from: Data($0)) }
        return letters.sorted {
            ($0.group, $0.stream.rawValue, $0.shard, $0.seq) < (
                $1.group, $1.stream.rawValue, $1.shard, $1.seq
            )
        }
    }

    public func removeDeadLetter(group: String, position: Position) async throws -> Bool {
        guard sharedGroups[group] != nil else {
            return try await replica.removeDeadLetter(group: group, position: position)
        }
        if readOnly { throw EventLogError.readOnly }
        let key = layout.deadLetterKey(group: group, position: position)
        return try await client.run { try self.deadLetterBucket($0, create: false)?.remove(key) ?? false }
    }

    /// The shared groups' dead-letter bucket, opened (and made, with `create`) on first use;
    /// nil when it does not exist. Blocks: call it on the client's threads.
    private func deadLetterBucket(_ connection: NATSConnection, create: Bool) throws -> KeyValueBucket? {
        if let bucket = sharedDeadLetters.withLock({ $0 }) { return bucket }
        guard let name = layout.deadLetterBucket(settings) else { return nil }
        if create { try connection.ensureKeyValue(name, replicas: settings.replicas) }
        guard let bucket = try connection.keyValue(name) else { return nil }
        sharedDeadLetters.withLock { $0 = bucket }
        return bucket
    }

    /// JetStream trims the streams by their own limits (the configured retention); the
    /// replica trims itself alike and forgets expired idempotency keys.
    public func enforceRetention(now: Timestamp) async throws -> RetentionReport {
        let report = try await replica.enforceRetention(now: now)
        for shard in report.trimmedRecords.keys {
            let first = try replica.shardInfo(shard).firstSeq
            while try await replica.updateState({ store in
                try ReplicaOrigins.forget(before: first, shard: shard, in: store)
            }) > 0 {}
        }
        return report
    }

    // MARK: - LogMaintenance

    /// Closes the log; a second call does nothing.
    public func close() {
        guard !closed.exchange(true, ordering: .acquiringAndReleasing) else { return }
        for follower in followers { follower.stop() }
        client.connection.close()
        try? client.pool.syncShutdownGracefully()
        replica.close()
    }

    public var writerStatistics: WriterStatistics { replica.writerStatistics }

    public func observeCommits(_ observer: @escaping @Sendable (CommitObservation) -> Void) {
        replica.observeCommits(observer)
    }

    public func statistics() throws -> StorageStatistics { try replica.statistics() }

    public func verify(progress: (UInt64, UInt64) -> Void) throws -> VerifyReport {
        try replica.verify(progress: progress)
    }

    public func backup(to directory: String) throws {
        throw EventLogError.invalidArgument(
            "the log is on JetStream: back up its streams with the nats CLI (nats stream backup); "
                + "a node's replica rebuilds itself from them")
    }

    public func projectionDigests() throws -> [String: TableDigest] { try replica.projectionDigests() }

    public func projectionMismatches(progress: (UInt64, UInt64) -> Void) throws -> [String]? {
        try replica.projectionMismatches(progress: progress)
    }

    @discardableResult public func rebuildProjections(progress: (UInt64, UInt64) -> Void) async throws
        -> UInt64
    {
        try await replica.rebuildProjections(progress: progress)
    }

    public func commitFollower() throws -> any CommitFollower { try replica.commitFollower() }
}

/// Runs `body`, failing with `unconfirmed` when it takes longer than `limit`: a write it
/// waits for may have been stored all the same.
func withDeadline<R: Sendable>(
    _ limit: Duration, _ message: String, _ body: @escaping @Sendable () async throws -> R
) async throws -> R {
    try await withThrowingTaskGroup(of: R?.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try await Task.sleep(for: limit)
            return nil
        }
        defer { group.cancelAll() }
        guard let first = try await group.next(), let result = first else {
            throw EventLogError.unconfirmed(message)
        }
        return result
    }
}
