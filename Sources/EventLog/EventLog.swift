/// The log as readers and writers use it: appends, shard iterators and `getRecords`, over any
/// `LogStorage`.
public struct EventLog: Sendable {
    public let storage: any LogStorage
    public let iteratorLifetime: Duration
    public let clock: any LogClock

    /// The most records one `getRecords` returns.
    public static let maxRecordsPerCall = 1000
    /// The most bytes one `getRecords` returns (one record may exceed it alone).
    public static let maxBytesPerCall = 1 << 20

    public init(
        storage: any LogStorage, iteratorLifetime: Duration = .seconds(900),
        clock: any LogClock = SystemLogClock()
    ) {
        self.storage = storage
        self.iteratorLifetime = iteratorLifetime
        self.clock = clock
    }

    /// Appends one record; returns once it is durable.
    public func append(_ request: AppendRequest) async throws -> AppendResult {
        try await storage.append(request)
    }

    /// An iterator at the position `type` names.
    public func shardIterator(_ shard: ShardKey, type: ShardIteratorType) async throws -> ShardIterator {
        try storage.validate(shard)
        let info = try await storage.shardInfo(shard)
        let nextSeq: SequenceNumber
        switch type {
        case .trimHorizon:
            nextSeq = info.firstSeq
        case .latest:
            nextSeq = info.head + 1
        case .atSequenceNumber(let seq), .afterSequenceNumber(let seq):
            let start = type == .atSequenceNumber(seq) ? seq : seq + 1
            guard seq >= 1 || type == .afterSequenceNumber(seq) else {
                throw EventLogError.invalidArgument("sequence numbers start at 1")
            }
            guard start <= info.head + 1 else {
                throw EventLogError.invalidArgument(
                    "sequence number \(seq) is past the head \(info.head) of \(shard)")
            }
            guard start >= info.firstSeq else {
                throw EventLogError.trimmedPosition(
                    Position(stream: shard.stream, shard: shard.shard, seq: start),
                    firstAvailable: info.firstSeq)
            }
            nextSeq = start
        case .atTimestamp(let time):
            nextSeq = try await storage.firstSequenceNumber(shard, atOrAfter: time)
        }
        return ShardIterator(shard: shard, nextSeq: nextSeq, issuedAt: clock.now())
    }

    /// A page of records read through an iterator.
    public struct RecordsPage: Sendable {
        public var records: [Record]
        /// Continues after the last record returned (or at the same place when none was).
        public var nextIterator: ShardIterator
        /// How far the page's last record is behind the shard's head.
        public var behindHead: UInt64
    }

    /// Up to `limit` (1…1000) records from the iterator, at most 1 MiB.
    public func getRecords(_ iterator: ShardIterator, limit: Int = 1000) async throws -> RecordsPage {
        guard (1...Self.maxRecordsPerCall).contains(limit) else {
            throw EventLogError.invalidArgument("limit must be 1 to \(Self.maxRecordsPerCall)")
        }
        let now = clock.now()
        guard iterator.issuedAt.adding(iteratorLifetime) > now else {
            throw EventLogError.expiredIterator(issuedAt: iterator.issuedAt)
        }
        try storage.validate(iterator.shard)
        let info = try await storage.shardInfo(iterator.shard)
        guard iterator.nextSeq >= info.firstSeq else {
            throw EventLogError.trimmedPosition(
                Position(stream: iterator.shard.stream, shard: iterator.shard.shard, seq: iterator.nextSeq),
                firstAvailable: info.firstSeq)
        }
        let records = try await storage.loadNext(
            iterator.shard, after: iterator.nextSeq - 1, limit: limit, maxBytes: Self.maxBytesPerCall)
        let nextSeq = records.last.map { $0.seq + 1 } ?? iterator.nextSeq
        return RecordsPage(
            records: records,
            nextIterator: ShardIterator(shard: iterator.shard, nextSeq: nextSeq, issuedAt: now),
            behindHead: info.head >= nextSeq ? info.head - nextSeq + 1 : 0)
    }

    /// `getRecords` for a token, as the CLI and HTTP API receive it.
    public func getRecords(token: String, limit: Int = 1000) async throws -> RecordsPage {
        try await getRecords(ShardIterator(token: token), limit: limit)
    }
}
