/// An opaque, expiring token for "the next record to read in this shard".
///
/// The token is base64url of: version (1 byte), shard (2), next seq (8), issue time (8),
/// stream name, and a CRC-32C of all that, so a truncated or altered token is refused as
/// malformed rather than read from the wrong place.
public struct ShardIterator: Sendable, Equatable {
    public var shard: ShardKey
    /// The sequence number the next `getRecords` starts at.
    public var nextSeq: SequenceNumber
    public var issuedAt: Timestamp

    static let version: UInt8 = 1

    public init(shard: ShardKey, nextSeq: SequenceNumber, issuedAt: Timestamp) {
        self.shard = shard
        self.nextSeq = nextSeq
        self.issuedAt = issuedAt
    }

    /// The opaque token.
    public var token: String {
        var bytes: [UInt8] = [Self.version]
        bytes += BigEndian.bytes(UInt16(shard.shard))
        bytes += BigEndian.bytes(nextSeq)
        bytes += BigEndian.bytes(issuedAt.microseconds)
        bytes += Array(shard.stream.rawValue.utf8)
        let checksum = bytes.withUnsafeBytes { CRC32C.checksum($0) }
        bytes += BigEndian.bytes(checksum)
        return Base64URL.encode(bytes)
    }

    /// Parses a token; throws `malformedIterator` for anything this log did not issue.
    public init(token: String) throws(EventLogError) {
        guard let bytes = Base64URL.decode(token) else { throw .malformedIterator("not base64url") }
        guard bytes.count >= 24 else { throw .malformedIterator("too short") }
        guard bytes[0] == Self.version else { throw .malformedIterator("unknown version \(bytes[0])") }
        let body = bytes[..<(bytes.count - 4)]
        let stored: UInt32 = bytes.withUnsafeBytes { BigEndian.read($0, at: bytes.count - 4) }
        guard body.withUnsafeBytes({ CRC32C.checksum($0) }) == stored else {
            throw .malformedIterator("checksum mismatch")
        }
        let (shardNumber, seq, issued): (UInt16, UInt64, Int64) = bytes.withUnsafeBytes {
            (
                BigEndian.read($0, at: 1), BigEndian.read($0, at: 3),
                BigEndian.read($0, at: 11)
            )
        }
        let stream = String(decoding: bytes[19..<(bytes.count - 4)], as: UTF8.self)
        self.init(
            shard: ShardKey(stream: StreamName(stream), shard: ShardID(shardNumber)), nextSeq: seq,
            issuedAt: Timestamp(microseconds: issued))
    }
}

/// URL-safe base64 without padding.
enum Base64URL {
    private static let alphabet = Array(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)
    private static let values: [UInt8] = {
        var values = [UInt8](repeating: 0xFF, count: 256)
        for (index, character) in alphabet.enumerated() { values[Int(character)] = UInt8(index) }
        return values
    }()

    static func encode(_ bytes: [UInt8]) -> String {
        var out: [UInt8] = []
        out.reserveCapacity((bytes.count * 4 + 2) / 3)
        var index = 0
        while index < bytes.count {
            let chunk = bytes[index..<min(index + 3, bytes.count)]
            var word: UInt32 = 0
            for (offset, byte) in chunk.enumerated() { word |= UInt32(byte) << (16 - 8 * offset) }
            for position in 0...chunk.count { out.append(alphabet[Int(word >> (18 - 6 * position) & 0x3F)]) }
            index += 3
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func decode(_ text: String) -> [UInt8]? {
        let characters = Array(text.utf8)
        guard characters.count % 4 != 1 else { return nil }
        var out: [UInt8] = []
        var index = 0
        while index < characters.count {
            let chunk = characters[index..<min(index + 4, characters.count)]
            var word: UInt32 = 0
            for (offset, character) in chunk.enumerated() {
                let value = values[Int(character)]
                guard value != 0xFF else { return nil }
                word |= UInt32(value) << (18 - 6 * offset)
            }
            for position in 0..<(chunk.count - 1) { out.append(UInt8(word >> (16 - 8 * position) & 0xFF)) }
            index += 4
        }
        return out
    }
}
