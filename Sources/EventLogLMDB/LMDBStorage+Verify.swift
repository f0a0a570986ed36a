import EventLog
import LMDB

extension LMDBStorage {
    /// Checks every invariant of the log in one consistent snapshot: record checksums,
    /// contiguous shard and channel sequence numbers, the shard counters, the channel and
    /// idempotency indexes, and checkpoints. `progress` gets (records checked, records total).
    public func verify(progress: (UInt64, UInt64) -> Void) throws -> VerifyReport {
        try reading { transaction in
            var verifier = LogVerifier(transaction: transaction, tables: tables, now: clock.now())
            let total = try streams.flatMap(\.shards).reduce(UInt64(0)) {
                $0 + (try Self.meta($1, in: transaction, tables: tables)).count
            }
            for shard in streams.flatMap(\.shards) {
                try verifier.checkShard(shard, meta: try Self.meta(shard, in: transaction, tables: tables)) {
                    progress($0, total)
                }
            }
            try verifier.checkChannelIndex()
            try verifier.checkIdempotencyIndex()
            try verifier.checkCheckpoints(Self.checkpoints(in: transaction, tables: tables))
            return verifier.report
        }
    }
}

/// The checks behind `verify`, gathering what they find into a report.
struct LogVerifier {
    let transaction: Transaction
    let tables: StorageTables
    let now: Timestamp
    var report = VerifyReport()
    /// The last record seen per stream and channel ("stream/channel"), and whether it has a
    /// channel index entry.
    private var channelHeads:
        [String: (channelSeq: SequenceNumber, position: StoredPosition, indexed: Bool)] =
            [:]
    private var heads: [ShardKey: SequenceNumber] = [:]

    init(transaction: Transaction, tables: StorageTables, now: Timestamp) {
        self.transaction = transaction
        self.tables = tables
        self.now = now
    }

    mutating func checkShard(_ shard: ShardKey, meta: ShardMeta, progress: (UInt64) -> Void) throws {
        heads[shard] = meta.head
        var expected = meta.first
        var count: UInt64 = 0
        var bytes: UInt64 = 0
        var lastTime = Int64.min
        try transaction.withCursor(try tables.records(shard)) { cursor in
            var entry = try cursor.first()
            while let (key, value) = entry {
                let seq: SequenceNumber = BigEndian.read(key)
                let position = Position(stream: shard.stream, shard: shard.shard, seq: seq)
                if seq != expected {
                    report.add("sequence", "\(position)", "expected seq \(expected), found \(seq)")
                }
                expected = seq + 1
                count += 1
                bytes += UInt64(value.count)
                do {
                    let record = try RecordCodec.decode(value)
                    if record.seq != seq || record.shard != shard.shard || record.stream != shard.stream {
                        report.add("sequence", "\(position)", "record says it is at \(record.position)")
                    }
                    if record.createdAt.microseconds < lastTime {
                        report.add(
                            "time", "\(position)",
                            "createdAt \(record.createdAt) is earlier than the record before")
                    }
                    lastTime = record.createdAt.microseconds
                    try checkChannel(record, firstKept: meta.first)
                } catch let error as RecordCodec.DecodingError {
                    report.add("checksum", "\(position)", error.description)
                }
                report.recordsChecked += 1
                if report.recordsChecked % 100_000 == 0 { progress(report.recordsChecked) }
                entry = try cursor.next()
            }
        }
        progress(report.recordsChecked)
        if count > 0, expected - 1 != meta.head {
            report.add(
                "sequence", "\(shard)", "last record is seq \(expected - 1) but the head is \(meta.head)")
        }
        if count == 0, meta.first != meta.head + 1 {
            report.add("counters", "\(shard)", "empty shard with first \(meta.first) and head \(meta.head)")
        }
        if count != meta.count || bytes != meta.bytes {
            report.add(
                "counters", "\(shard)",
                "stored counters say \(meta.count) records / \(meta.bytes) bytes; found \(count) / \(bytes)")
        }
    }

    /// A channel record's sequence, its index entry (required on anchors) and its link to the
    /// channel's record before it, which the reads walk.
    private mutating func checkChannel(_ record: Record, firstKept: SequenceNumber) throws {
        guard let channelID = record.channelID, let channelSeq = record.channelSeq else { return }
        let channelKey = "\(record.stream)/\(channelID)"
        let location = "channel \(channelKey) seq \(channelSeq) at \(record.position)"
        let position = StoredPosition(shard: record.shard, seq: record.seq)
        let previous = channelHeads[channelKey]
        if let previous {
            if channelSeq != previous.channelSeq + 1 {
                report.add("channel_sequence", location, "expected channel seq \(previous.channelSeq + 1)")
            }
        } else if firstKept == 1, channelSeq != 1 {
            report.add(
                "channel_sequence", location, "the channel's first record has seq \(channelSeq), not 1")
        }
        let indexKey = StorageKeys.channelIndex(
            stream: record.stream, channelID: channelID, channelSeq: channelSeq)
        let stored = try transaction.withValue(tables.channelIndex, key: indexKey) {
            $0.flatMap(StoredPosition.init)
        }
        if let stored, stored != position {
            report.add("index", location, "channel index entry points to \(stored.shard)/\(stored.seq)")
        } else if stored == nil, channelSeq % StorageKeys.channelAnchorInterval == 0 {
            report.add("index", location, "the channel index has no entry for this anchor")
        }
        let link: SequenceNumber? = try tables.channelLinks.flatMap { links in
            try transaction.withValue(
                links,
                key: StorageKeys.channelLink(stream: record.stream, shard: record.shard, seq: record.seq)
            ) { $0.map { BigEndian.read($0) } }
        }
        if let previous {
            if let link, link != previous.position.seq || previous.position.shard != record.shard {
                report.add("index", location, "links to seq \(link), not to the channel's record before it")
            } else if link == nil, !previous.indexed {
                report.add(
                    "index", location,
                    "no link to the channel's record before it, which has no index entry: reads cannot find it"
                )
            }
        }
        channelHeads[channelKey] = (channelSeq, position, stored != nil)
    }

    /// Every channel index entry and channel link points to a record that carries it, and every
    /// channel's head is its last record.
    mutating func checkChannelIndex() throws {
        var problems: [(String, String)] = []
        let indexEntries = try forEachEntry(of: tables.channelIndex) { key, value in
            guard let (stream, channelID, channelSeq) = StorageKeys.parseChannelIndex(key),
                let stored = StoredPosition(value)
            else { return problems.append(("channel index", "an entry is malformed")) }
            let record = try? StoredRecords.record(
                at: stored.seq, shard: ShardKey(stream: stream, shard: stored.shard), in: transaction,
                tables: tables)
            if record?.channelID != channelID || record?.channelSeq != channelSeq {
                problems.append(
                    (
                        "channel \(stream)/\(channelID) seq \(channelSeq)",
                        "channel index entry points to \(stored.shard)/\(stored.seq), which does not carry it"
                    ))
            }
        }
        let linkEntries = try tables.channelLinks.map { links in
            try forEachEntry(of: links) { key, value in
                guard let (shard, seq) = StorageKeys.parseChannelLink(key), value.count == 8 else {
                    return problems.append(("channel links", "an entry is malformed"))
                }
                let record = try? StoredRecords.record(at: seq, shard: shard, in: transaction, tables: tables)
                if record?.channelID == nil {
                    problems.append(("channel link of \(shard)/\(seq)", "there is no channel record there"))
                }
            }
        }
        report.indexEntriesChecked += indexEntries + (linkEntries ?? 0)
        for (location, message) in problems { report.add("index", location, message) }
        for (channelKey, last) in channelHeads {
            let separator = channelKey.firstIndex(of: "/")!
            let stream = StreamName(String(channelKey[..<separator]))
            let channelID = String(channelKey[channelKey.index(after: separator)...])
            let head = try transaction.withValue(
                tables.channelHeads, key: StorageKeys.channelHead(stream: stream, channelID: channelID)
            ) { $0.flatMap(ChannelHead.init) }
            if head?.channelSeq != last.channelSeq {
                report.add(
                    "index", "channel \(channelKey)",
                    "channel head is \(head?.channelSeq ?? 0) but the last record has seq \(last.channelSeq)")
            } else if let position = head?.position, position != last.position {
                report.add(
                    "index", "channel \(channelKey)",
                    "channel head points to \(position.shard)/\(position.seq), but the last record is at \(last.position.shard)/\(last.position.seq)"
                )
            }
        }
        report.channelsChecked = channelHeads.count
    }

    /// Calls `body` with every entry of `database`; returns how many there were.
    private func forEachEntry(
        of database: Database, _ body: (UnsafeRawBufferPointer, UnsafeRawBufferPointer) throws -> Void
    ) throws -> Int {
        var count = 0
        try transaction.withCursor(database) { cursor in
            var entry = try cursor.first()
            while let (key, value) = entry {
                count += 1
                try body(key, value)
                entry = try cursor.next()
            }
        }
        return count
    }

    mutating func checkIdempotencyIndex() throws {
        var problems: [(String, String)] = []
        report.indexEntriesChecked += try forEachEntry(of: tables.idempotency) { key, value in
            let parts = key.split(separator: 0, maxSplits: 1, omittingEmptySubsequences: false)
            let stream = StreamName(String(decoding: parts[0], as: UTF8.self))
            let idempotencyKey = parts.count == 2 ? String(decoding: parts[1], as: UTF8.self) : ""
            guard let stored = StoredPosition(value) else {
                return problems.append(("idempotency key \(idempotencyKey)", "malformed entry"))
            }
            let shard = ShardKey(stream: stream, shard: stored.shard)
            let record = try? StoredRecords.record(
                at: stored.seq, shard: shard, in: transaction, tables: tables)
            if record?.idempotencyKey != idempotencyKey {
                problems.append(
                    (
                        "idempotency key \(idempotencyKey)",
                        "points to \(shard)/\(stored.seq), which does not carry it"
                    ))
            }
        }
        for (location, message) in problems { report.add("index", location, message) }
    }

    mutating func checkCheckpoints(_ checkpoints: [Checkpoint]) {
        for checkpoint in checkpoints {
            let shard = ShardKey(stream: checkpoint.stream, shard: checkpoint.shard)
            guard let head = heads[shard] else {
                report.add("checkpoint", "group \(checkpoint.group) on \(shard)", "the shard does not exist")
                continue
            }
            if checkpoint.seq > head {
                report.add(
                    "checkpoint", "group \(checkpoint.group) on \(shard)",
                    "checkpoint \(checkpoint.seq) is past the head \(head)")
            }
        }
    }
}
