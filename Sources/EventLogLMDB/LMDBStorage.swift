import EventLog
import Foundation
import LMDB
import Logging

/// The embedded log: every stream, shard, index and checkpoint in one LMDB environment.
///
/// Opening costs the same at any log size: LMDB's copy-on-write B+tree has no recovery step,
/// and the per-shard counters are stored, not recounted.
public final class LMDBStorage: LogStorage, LogMaintenance {
    public let streams: [StreamDescriptor]
    let environment: Environment
    let tables: StorageTables
    let configuration: LogConfiguration
    let clock: any LogClock
    let logger: Logger
    let writer: LogWriter?
    private let writerLock: WriterLock?
    let notifier: CommitNotifier
    /// The projections folded into this log's tables.
    let projections: [any Projection]

    /// The LMDB files live in `directory/log`.
    public static func environmentPath(_ directory: String) -> String {
        directory + "/log"
    }

    /// Whether `directory` holds a log.
    public static func exists(directory: String) -> Bool {
        FileManager.default.fileExists(atPath: environmentPath(directory) + "/data.mdb")
    }

    /// Opens the log in `directory`, creating it unless `readOnly`.
    ///
    /// Read-only opens work beside a running server (LMDB readers never block the writer).
    public init(
        directory: String, configuration: LogConfiguration, readOnly: Bool = false,
        projections: [any Projection] = [], stateTables: [String] = [],
        clock: any LogClock = SystemLogClock(),
        logger: Logger = Logger(label: "chatlog.log")
    ) throws {
        let path = Self.environmentPath(directory)
        if readOnly {
            guard Self.exists(directory: directory) else { throw EventLogError.notFound(directory) }
        } else {
            try PrivateDirectory.create(path)
            let tightened = try PrivateDirectory.tighten(directory)
            if !tightened.isEmpty {
                logger.notice(
                    "restricted the data directory to its owner (directories 0700, files 0600)",
                    metadata: ["directory": "\(directory)", "changed": "\(tightened.count)"])
            }
        }
        // One writer process at a time: this process's writer caches each shard's head, so a
        // second writer would hand out sequence numbers that are already taken.
        let writerLock = readOnly ? nil : try WriterLock(path: path + "/writer.lock")
        var options = Environment.Options()
        options.mapSize = configuration.initialMapSize
        options.maxDatabases = 4096
        options.readOnly = readOnly
        options.syncOnCommit = configuration.durability == .strict
        // The writer syncs each commit's meta page with the next commit's data (or on its own
        // when nothing follows), and acknowledges only then: one sync per commit under load.
        options.syncMetaOnCommit = false
        let environment: Environment
        do {
            environment = try Environment(path: path, options: options)
        } catch {
            throw EventLogError.storage("cannot open the log at \(path): \(error)")
        }
        let (tables, streams, metas) = try Self.load(
            environment, configuration: configuration, projectionTables: projections.flatMap { $0.tables },
            stateTables: stateTables, logger: logger)
        self.writerLock = writerLock
        self.projections = projections
        self.environment = environment
        self.tables = tables
        self.streams = streams
        self.configuration = configuration
        self.clock = clock
        self.logger = logger
        self.notifier = CommitNotifier(heads: metas.mapValues(\.head))
        self.writer =
            readOnly
            ? nil
            : LogWriter(
                environment: environment, tables: tables, streams: streams, projections: projections,
                configuration: configuration, notifier: notifier, clock: clock, logger: logger, metas: metas)
    }

    /// Totals of the group commits since the log was opened (zero when read-only).
    public var writerStatistics: WriterStatistics {
        writer?.counters.snapshot ?? WriterStatistics(commits: 0, appendedRecords: 0, syncedCommits: 0)
    }

    /// Calls `observer` after each group commit, on the writer's thread: it must be quick (a
    /// metrics histogram, say). A later call replaces the observer.
    public func observeCommits(_ observer: @escaping @Sendable (CommitObservation) -> Void) {
        writer?.counters.observer.set(observer)
    }

    /// Finishes queued writes and closes the environment. Later calls fail with `closed`.
    public func close() {
        writer?.stop()
        notifier.cancelAll()
        environment.close()
        writerLock?.release()
    }

    /// Opens (or creates) the tables and streams, and loads every shard's counters.
    private static func load(
        _ environment: Environment, configuration: LogConfiguration, projectionTables: [String],
        stateTables: [String], logger: Logger
    ) throws -> (StorageTables, [StreamDescriptor], [ShardKey: ShardMeta]) {
        func body(_ transaction: Transaction) throws -> (
            StorageTables, [StreamDescriptor], [ShardKey: ShardMeta]
        ) {
            var tables = try StorageTables.open(in: transaction, create: !environment.isReadOnly)
            tables.channelLinks = try openTable(
                StorageTables.channelLinksName, in: transaction, readOnly: environment.isReadOnly)
            var stored = try storedStreams(transaction, tables: tables)
            if !environment.isReadOnly {
                for stream in configuration.streams {
                    if let existing = stored[stream.name] {
                        if existing != stream.shardCount {
                            logger.warning(
                                "stream \(stream.name) keeps its \(existing) shards; the configured \(stream.shardCount) applies to new logs only"
                            )
                        }
                        continue
                    }
                    guard (1...1024).contains(stream.shardCount) else {
                        throw EventLogError.invalidArgument(
                            "stream \(stream.name): shard count must be 1 to 1024")
                    }
                    try transaction.put(
                        tables.streams, key: Array(stream.name.rawValue.utf8),
                        value: BigEndian.bytes(UInt16(stream.shardCount)))
                    stored[stream.name] = stream.shardCount
                }
            }
            let descriptors = stored.map { StreamDescriptor(name: $0.key, shardCount: $0.value) }.sorted {
                $0.name < $1.name
            }
            for table in projectionTables {
                tables.projections[table] = try openTable(
                    LMDBProjectionStore.databaseName(table), in: transaction, readOnly: environment.isReadOnly
                )
            }
            for table in stateTables {
                tables.state[table] = try openTable(
                    LMDBProjectionStore.stateDatabaseName(table), in: transaction,
                    readOnly: environment.isReadOnly)
            }
            var metas: [ShardKey: ShardMeta] = [:]
            for shard in descriptors.flatMap(\.shards) {
                tables.records[shard] = try transaction.openDatabase(
                    StorageTables.recordsName(shard), options: environment.isReadOnly ? [] : .create)
                metas[shard] =
                    try transaction.withValue(tables.shards, key: StorageKeys.shard(shard)) {
                        $0.flatMap(ShardMeta.init)
                    } ?? ShardMeta()
            }
            return (tables, descriptors, metas)
        }
        do {
            return environment.isReadOnly ? try environment.read(body) : try environment.write(body)
        } catch let error as LMDBError where error.isNotFound {
            throw EventLogError.notFound(environment.path)
        } catch let error as LMDBError {
            throw EventLogError.storage("cannot open the log: \(error)")
        }
    }

    /// A projection or state table's database; nil when read-only and it was never created.
    private static func openTable(
        _ name: String, in transaction: Transaction, readOnly: Bool
    ) throws -> Database? {
        guard readOnly else { return try transaction.openDatabase(name, options: .create) }
        do {
            return try transaction.openDatabase(name)
        } catch let error {
            if error.isNotFound { return nil }
            throw error
        }
    }

    private static func storedStreams(_ transaction: Transaction, tables: StorageTables) throws
        -> [StreamName: Int]
    {
        var streams: [StreamName: Int] = [:]
        try transaction.withCursor(tables.streams) { cursor in
            var entry = try cursor.first()
            while let (key, value) = entry {
                streams[StreamName(String(decoding: key, as: UTF8.self))] = Int(
                    BigEndian.read(value) as UInt16)
                entry = try cursor.next()
            }
        }
        return streams
    }

    /// The last seq of a shard that readers are shown: what the writer has made durable (a
    /// commit is visible in LMDB a sync before that). A read-only log shows all it finds.
    private func visibleHead(_ shard: ShardKey) -> SequenceNumber {
        writer == nil ? .max : notifier.head(shard)
    }

    /// Runs a read transaction, mapping LMDB failures to log errors.
    func reading<R>(_ body: (Transaction) throws -> R) throws -> R {
        do {
            return try environment.read(body)
        } catch let error as LMDBError {
            throw error.isClosed ? EventLogError.closed : EventLogError.storage("\(error)")
        }
    }

    func writing<R: Sendable>(_ body: @escaping @Sendable (inout WriteContext) throws -> R) async throws -> R
    {
        guard let writer else { throw EventLogError.readOnly }
        return try await writer.perform(body)
    }

    // MARK: - LogStorage

    public func append(_ requests: [AppendRequest]) async throws -> [AppendResult] {
        guard let writer else { throw EventLogError.readOnly }
        return try await writer.append(requests)
    }

    public func append(_ request: AppendRequest) async throws -> AppendResult {
        guard let writer else { throw EventLogError.readOnly }
        return try await writer.append(request)
    }

    public func shardInfo(_ shard: ShardKey) throws -> ShardInfo {
        try validate(shard)
        return try reading { transaction in
            let meta = try Self.meta(shard, in: transaction, tables: tables)
            let database = try tables.records(shard)
            let (oldest, newest) = try transaction.withCursor(database) { cursor in
                (
                    try cursor.first().map { StoredRecords.createdAt($0.value) },
                    try cursor.last().map { StoredRecords.createdAt($0.value) }
                )
            }
            return ShardInfo(
                stream: shard.stream, shard: shard.shard, firstSeq: meta.first, head: meta.head,
                recordCount: meta.count, bytes: meta.bytes, oldestCreatedAt: oldest, newestCreatedAt: newest)
        }
    }

    static func meta(_ shard: ShardKey, in transaction: Transaction, tables: StorageTables) throws
        -> ShardMeta
    {
        try transaction.withValue(tables.shards, key: StorageKeys.shard(shard)) {
            $0.flatMap(ShardMeta.init)
        } ?? ShardMeta()
    }

    public func loadNext(_ shard: ShardKey, after: SequenceNumber, limit: Int, maxBytes: Int) throws
        -> [Record]
    {
        try validate(shard)
        let database = try tables.records(shard)
        return try reading { transaction in
            try transaction.withCursor(database) { cursor in
                var records: [Record] = []
                records.reserveCapacity(min(limit, 1024))
                var bytes = 0
                var entry = try withUnsafeBytes(of: (after + 1).bigEndian) { try cursor.seek(atLeast: $0) }
                let visible = visibleHead(shard)
                while let (key, value) = entry, records.count < limit {
                    let seq: SequenceNumber = BigEndian.read(key)
                    if seq > visible { break }
                    bytes += value.count
                    if bytes > maxBytes, !records.isEmpty { break }
                    records.append(
                        try StoredRecords.decode(
                            value, at: Position(stream: shard.stream, shard: shard.shard, seq: seq)))
                    entry = try cursor.next()
                }
                return records
            }
        }
    }

    public func record(at position: Position) throws -> Record? {
        try validate(position.shardKey)
        return try reading { transaction in
            try StoredRecords.record(
                at: position.seq, shard: position.shardKey, in: transaction, tables: tables)
        }
    }

    public func firstSequenceNumber(_ shard: ShardKey, atOrAfter time: Timestamp) throws -> SequenceNumber {
        try validate(shard)
        let database = try tables.records(shard)
        return try reading { transaction in
            let meta = try Self.meta(shard, in: transaction, tables: tables)
            // Times never decrease within a shard, so a binary search over seq finds it.
            var low = meta.first
            var high = meta.head + 1
            while low < high {
                let middle = low + (high - low) / 2
                let createdAt = try withUnsafeBytes(of: middle.bigEndian) { key in
                    try transaction.withValue(database, key: key) { $0.map(StoredRecords.createdAt) }
                }
                guard let createdAt else {
                    throw EventLogError.corrupted(
                        Position(stream: shard.stream, shard: shard.shard, seq: middle), "missing")
                }
                if createdAt < time { low = middle + 1 } else { high = middle }
            }
            return low
        }
    }

    public func channelHead(stream: StreamName, channelID: String) throws -> SequenceNumber {
        try reading { transaction in
            try transaction.get(
                tables.channelHeads, key: StorageKeys.channelHead(stream: stream, channelID: channelID)
            )
            .map { $0.withUnsafeBytes { BigEndian.read($0) } } ?? 0
        }
    }

    public func channelRecords(
        stream: StreamName, channelID: String, after: SequenceNumber, limit: Int
    ) throws -> [Record] {
        let prefix = StorageKeys.channelIndexPrefix(stream: stream, channelID: channelID)
        return try reading { transaction in
            let head = try transaction.withValue(
                tables.channelHeads, key: StorageKeys.channelHead(stream: stream, channelID: channelID)
            ) { $0.flatMap(ChannelHead.init) }
            guard let head, head.channelSeq > after, limit > 0 else { return [] }
            return try transaction.withCursor(tables.channelIndex) { cursor in
                var records: [Record] = []
                var next = after + 1
                var entry = try cursor.seek(atLeast: prefix + BigEndian.bytes(next))
                while records.count < limit, next <= head.channelSeq {
                    // The records from `next` up to the next anchor (or the head), walked back
                    // through their links from there.
                    let anchor: SequenceNumber
                    let position: StoredPosition
                    if let (key, value) = entry, key.starts(with: prefix), let stored = StoredPosition(value)
                    {
                        (anchor, position) = (BigEndian.read(key, at: prefix.count), stored)
                        entry = try cursor.next()
                    } else if let stored = head.position {
                        (anchor, position) = (head.channelSeq, stored)
                    } else {
                        break
                    }
                    let shard = ShardKey(stream: stream, shard: position.shard)
                    let visible = visibleHead(shard)
                    for seq in try channelChain(
                        back: position, for: anchor - next, in: transaction, shard: shard)
                    {
                        guard records.count < limit, seq <= visible else { return records }
                        // Trimmed records are gone from the front of the chain.
                        if let record = try StoredRecords.record(
                            at: seq, shard: shard, in: transaction, tables: tables)
                        {
                            records.append(record)
                        }
                    }
                    next = anchor + 1
                }
                return records
            }
        }
    }

    /// The seqs of up to `steps` records of a channel before the one at `position`, and of
    /// that one, oldest first: fewer where a link is missing (its records are trimmed).
    private func channelChain(
        back position: StoredPosition, for steps: SequenceNumber, in transaction: Transaction, shard: ShardKey
    ) throws -> [SequenceNumber] {
        var chain = [position.seq]
        guard let links = tables.channelLinks else { return chain }
        var key: [UInt8] = []
        while chain.count <= steps {
            StorageKeys.channelLink(
                stream: shard.stream, shard: shard.shard, seq: chain[chain.count - 1], into: &key)
            let previous: SequenceNumber? = try transaction.withValue(links, key: key) {
                $0.map { BigEndian.read($0) }
            }
            guard let previous else { break }
            chain.append(previous)
        }
        return chain.reversed()
    }

    /// Runs `body` with read-only access to the projections, in one consistent snapshot.
    public func readProjections<R>(_ body: (any ProjectionStore) throws -> R) throws -> R {
        try reading { transaction in
            try body(LMDBProjectionStore(transaction: transaction, databases: tables.projections))
        }
    }

    public func readState<R>(_ body: (any ProjectionStore) throws -> R) throws -> R {
        try reading { transaction in
            try body(LMDBProjectionStore(transaction: transaction, databases: tables.state))
        }
    }

    @discardableResult public func updateState<R: Sendable>(
        _ body: @escaping @Sendable (any ProjectionStore) throws -> R
    ) async throws -> R {
        try await writing { context in
            try body(LMDBProjectionStore(transaction: context.transaction, databases: context.tables.state))
        }
    }

    @discardableResult public func waitForRecords(
        _ shard: ShardKey, after: SequenceNumber, interrupt: WaitInterrupt?, limit: Duration?
    ) async throws -> Bool {
        try validate(shard)
        return try await notifier.wait(shard, after: after, interrupt: interrupt, limit: limit)
    }
}
