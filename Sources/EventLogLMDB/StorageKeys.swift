import EventLog

/// Byte layouts of the keys in the log's LMDB databases. Numbers are big-endian so that
/// LMDB's byte order is numeric order; names are separated by a NUL byte, which appends
/// reject in names and keys.
enum StorageKeys {
    static func sequence(_ seq: SequenceNumber) -> [UInt8] {
        BigEndian.bytes(seq)
    }

    static func shard(_ shard: ShardKey) -> [UInt8] {
        Array(shard.stream.rawValue.utf8) + [0] + BigEndian.bytes(UInt16(shard.shard))
    }

    static func channelHead(stream: StreamName, channelID: String) -> [UInt8] {
        Array(stream.rawValue.utf8) + [0] + Array(channelID.utf8)
    }

    static func channelIndexPrefix(stream: StreamName, channelID: String) -> [UInt8] {
        Array(stream.rawValue.utf8) + [0] + Array(channelID.utf8) + [0]
    }

    static func channelIndex(stream: StreamName, channelID: String, channelSeq: SequenceNumber) -> [UInt8] {
        channelIndexPrefix(stream: stream, channelID: channelID) + BigEndian.bytes(channelSeq)
    }

    static func channelHead(stream: StreamName, channelID: String, into buffer: inout [UInt8]) {
        buffer.removeAll(keepingCapacity: true)
        buffer.append(contentsOf: stream.rawValue.utf8)
        buffer.append(0)
        buffer.append(contentsOf: channelID.utf8)
    }

    static func channelIndex(
        stream: StreamName, channelID: String, channelSeq: SequenceNumber, into buffer: inout [UInt8]
    ) {
        channelHead(stream: stream, channelID: channelID, into: &buffer)
        buffer.append(0)
        withUnsafeBytes(of: channelSeq.bigEndian) { buffer.append(contentsOf: $0) }
    }

    /// One channel record in this many has a channel index entry (an anchor); the records
    /// between anchors are found through their channel links.
    static let channelAnchorInterval: SequenceNumber = 64

    static func channelLink(stream: StreamName, shard: ShardID, seq: SequenceNumber) -> [UInt8] {
        var key: [UInt8] = []
        channelLink(stream: stream, shard: shard, seq: seq, into: &key)
        return key
    }

    static func channelLink(
        stream: StreamName, shard: ShardID, seq: SequenceNumber, into buffer: inout [UInt8]
    ) {
        buffer.removeAll(keepingCapacity: true)
        buffer.append(contentsOf: stream.rawValue.utf8)
        buffer.append(0)
        withUnsafeBytes(of: UInt16(shard).bigEndian) { buffer.append(contentsOf: $0) }
        withUnsafeBytes(of: seq.bigEndian) { buffer.append(contentsOf: $0) }
    }

    /// Splits a channel index key into stream, channel id and channelSeq.
    static func parseChannelIndex(_ key: UnsafeRawBufferPointer) -> (StreamName, String, SequenceNumber)? {
        let parts = key.split(separator: 0, maxSplits: 1, omittingEmptySubsequences: false)
        // The channel id, its NUL separator and the 8-byte channelSeq.
        guard parts.count == 2, parts[1].count > 9, parts[1].dropLast(8).last == 0 else { return nil }
        return (
            StreamName(String(decoding: parts[0], as: UTF8.self)),
            String(decoding: parts[1].dropLast(9), as: UTF8.self),
            BigEndian.read(UnsafeRawBufferPointer(rebasing: parts[1].suffix(8)))
        )
    }

    /// Splits a channel link key into the shard and the seq of the record it belongs to.
    static func parseChannelLink(_ key: UnsafeRawBufferPointer) -> (ShardKey, SequenceNumber)? {
        let parts = key.split(separator: 0, maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2, parts[1].count == 10 else { return nil }
        let rest = UnsafeRawBufferPointer(rebasing: parts[1])
        let shard = ShardKey(
            stream: StreamName(String(decoding: parts[0], as: UTF8.self)),
            shard: ShardID(BigEndian.read(rest) as UInt16))
        return (shard, BigEndian.read(rest, at: 2))
    }

    static func idempotency(stream: StreamName, key: String, into buffer: inout [UInt8]) {
        channelHead(stream: stream, channelID: key, into: &buffer)
    }

    static func idempotency(stream: StreamName, key: String) -> [UInt8] {
        Array(stream.rawValue.utf8) + [0] + Array(key.utf8)
    }

    static func idempotencyExpiry(_ expiresAt: Timestamp, idempotencyKey: [UInt8]) -> [UInt8] {
        BigEndian.bytes(UInt64(bitPattern: expiresAt.microseconds)) + idempotencyKey
    }

    static func checkpoint(group: String, shard: ShardKey) -> [UInt8] {
        Array(group.utf8) + [0] + StorageKeys.shard(shard)
    }

    /// Splits a checkpoint key into group, stream and shard.
    static func parseCheckpoint(_ key: UnsafeRawBufferPointer) -> (String, StreamName, ShardID)? {
        let parts = key.split(separator: 0, maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2 else { return nil }
        let rest = Array(parts[1])
        guard rest.count >= 3, let separator = rest.firstIndex(of: 0), separator == rest.count - 3 else {
            return nil
        }
        let stream = String(decoding: rest[..<separator], as: UTF8.self)
        let shard = Int(rest[rest.count - 2]) << 8 | Int(rest[rest.count - 1])
        return (String(decoding: parts[0], as: UTF8.self), StreamName(stream), shard)
    }
}

/// A channel's head: its last channelSeq and, when the log stored it, where that record is.
struct ChannelHead: Equatable {
    var channelSeq: SequenceNumber
    var position: StoredPosition?

    static let size = 18

    init(channelSeq: SequenceNumber, position: StoredPosition?) {
        self.channelSeq = channelSeq
        self.position = position
    }

    /// Reads 8 bytes (a log written before the channel links) or 18.
    init?(_ bytes: UnsafeRawBufferPointer) {
        guard bytes.count == 8 || bytes.count == Self.size else { return nil }
        channelSeq = BigEndian.read(bytes)
        position =
            bytes.count == Self.size
            ? StoredPosition(
                shard: ShardID(BigEndian.read(bytes, at: 8) as UInt16),
                seq: BigEndian.read(bytes, at: 10))
            : nil
    }

    /// Calls `body` with the 18 stored bytes, without allocating.
    func withBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        var raw: (UInt64, UInt16, UInt64) = (0, 0, 0)
        return try withUnsafeMutableBytes(of: &raw) { buffer in
            buffer.storeBytes(of: channelSeq.bigEndian, toByteOffset: 0, as: UInt64.self)
            buffer.storeBytes(of: UInt16(position?.shard ?? 0).bigEndian, toByteOffset: 8, as: UInt16.self)
            buffer.storeBytes(of: (position?.seq ?? 0).bigEndian, toByteOffset: 10, as: UInt64.self)
            return try body(UnsafeRawBufferPointer(rebasing: buffer[0..<Self.size]))
        }
    }
}

/// A stored (shard, seq) pair, used by the channel and idempotency indexes.
struct StoredPosition: Equatable {
    var shard: ShardID
    var seq: SequenceNumber
    /// For idempotency entries: when the key stops counting (0: never).
    var expiresAt: Int64 = 0

    static let size = 18

    var bytes: [UInt8] {
        withBytes { Array($0) }
    }

    /// Calls `body` with the 18 stored bytes, without allocating.
    func withBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        var raw: (UInt16, UInt64, Int64) = (0, 0, 0)
        return try withUnsafeMutableBytes(of: &raw) { buffer in
            buffer.storeBytes(of: UInt16(shard).bigEndian, toByteOffset: 0, as: UInt16.self)
            buffer.storeBytes(of: seq.bigEndian, toByteOffset: 2, as: UInt64.self)
            buffer.storeBytes(of: expiresAt.bigEndian, toByteOffset: 10, as: Int64.self)
            return try body(UnsafeRawBufferPointer(rebasing: buffer[0..<Self.size]))
        }
    }

    init(shard: ShardID, seq: SequenceNumber, expiresAt: Int64 = 0) {
        self.shard = shard
        self.seq = seq
        self.expiresAt = expiresAt
    }

    init?(_ bytes: UnsafeRawBufferPointer) {
        guard bytes.count == Self.size else { return nil }
        shard = ShardID(BigEndian.read(bytes, at: 0) as UInt16)
        seq = BigEndian.read(bytes, at: 2)
        expiresAt = BigEndian.read(bytes, at: 10)
    }
}
