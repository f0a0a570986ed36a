#if canImport(Glibc)
    import Glibc
#endif

/// The stored form of a record: a fixed 80-byte little-endian header, then the strings and the
/// payload. The CRC-32C at offset 4 covers every byte after it, so any torn or flipped byte of
/// the envelope or payload is caught on read.
///
///     0 version u8 · 1 flags u8 · 2 shard u16 · 4 crc u32 · 8 seq u64 · 16 channelSeq u64
///     24 createdAt i64 · 32 id 16B · 48 causationId 16B
///     64 lengths: stream, type, partitionKey, channelId, actor, idempotencyKey (u16 each), payload u32
///     80 stream · type · partitionKey · channelId · actor · idempotencyKey · payload
package enum RecordCodec {
    package static let version: UInt8 = 1
    package static let headerSize = 80
    package static let checksumOffset = 4
    package static let checksumStart = 8

    private enum Flag {
        static let channel: UInt8 = 1
        static let idempotencyKey: UInt8 = 2
        static let causation: UInt8 = 4
    }

    /// The number of bytes `encode` writes for `record`.
    package static func encodedSize(_ record: Record) -> Int {
        headerSize + record.stream.rawValue.utf8.count + record.type.utf8.count
            + record.partitionKey.utf8.count + (record.channelID?.utf8.count ?? 0) + record.actor.utf8.count
            + (record.idempotencyKey?.utf8.count ?? 0) + record.payload.count
    }

    /// Writes `record` into `buffer`, which has exactly `encodedSize(record)` bytes.
    package static func encode(_ record: Record, into buffer: UnsafeMutableRawBufferPointer) {
        var flags: UInt8 = 0
        if record.channelID != nil { flags |= Flag.channel }
        if record.idempotencyKey != nil { flags |= Flag.idempotencyKey }
        if record.causationID != nil { flags |= Flag.causation }
        buffer[0] = version
        buffer[1] = flags
        buffer.storeBytes(of: UInt16(record.shard).littleEndian, toByteOffset: 2, as: UInt16.self)
        buffer.storeBytes(of: record.seq.littleEndian, toByteOffset: 8, as: UInt64.self)
        buffer.storeBytes(of: (record.channelSeq ?? 0).littleEndian, toByteOffset: 16, as: UInt64.self)
        buffer.storeBytes(of: record.createdAt.microseconds.littleEndian, toByteOffset: 24, as: Int64.self)
        buffer.storeBytes(of: record.id.high.littleEndian, toByteOffset: 32, as: UInt64.self)
        buffer.storeBytes(of: record.id.low.littleEndian, toByteOffset: 40, as: UInt64.self)
        let causation = record.causationID ?? RecordID(high: 0, low: 0)
        buffer.storeBytes(of: causation.high.littleEndian, toByteOffset: 48, as: UInt64.self)
        buffer.storeBytes(of: causation.low.littleEndian, toByteOffset: 56, as: UInt64.self)
        var lengthOffset = 64
        var offset = headerSize
        for text in [
            record.stream.rawValue, record.type, record.partitionKey, record.channelID ?? "", record.actor,
            record.idempotencyKey ?? "",
        ] {
            var text = text
            let length = text.withUTF8 { utf8 in
                UnsafeMutableRawBufferPointer(rebasing: buffer[offset..<offset + utf8.count])
                    .copyMemory(from: UnsafeRawBufferPointer(utf8))
                return utf8.count
            }
            buffer.storeBytes(of: UInt16(length).littleEndian, toByteOffset: lengthOffset, as: UInt16.self)
            lengthOffset += 2
            offset += length
        }
        buffer.storeBytes(of: UInt32(record.payload.count).littleEndian, toByteOffset: 76, as: UInt32.self)
        record.payload.withUnsafeBytes { payload in
            UnsafeMutableRawBufferPointer(rebasing: buffer[offset..<offset + payload.count]).copyMemory(
                from: payload)
        }
        let checksum = CRC32C.checksum(UnsafeRawBufferPointer(rebasing: buffer[checksumStart...]))
        buffer.storeBytes(of: checksum.littleEndian, toByteOffset: checksumOffset, as: UInt32.self)
    }

    package static func encode(_ record: Record) -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: encodedSize(record)) { buffer, count in
            encode(record, into: UnsafeMutableRawBufferPointer(buffer))
            count = buffer.count
        }
    }

    /// Why stored bytes are not a valid record.
    package enum DecodingError: Error, Equatable, CustomStringConvertible {
        case truncated(Int)
        case unknownVersion(UInt8)
        case checksumMismatch(stored: UInt32, computed: UInt32)

        package var description: String {
            switch self {
            case .truncated(let size): "record is truncated (\(size) bytes)"
            case .unknownVersion(let version): "unknown record format version \(version)"
            case .checksumMismatch(let stored, let computed):
                "checksum mismatch: stored \(hex(stored)), computed \(hex(computed))"
            }
        }
    }

    /// Decodes and checks a stored record.
    package static func decode(_ bytes: UnsafeRawBufferPointer) throws(DecodingError) -> Record {
        guard bytes.count >= headerSize else { throw .truncated(bytes.count) }
        guard bytes[0] == version else { throw .unknownVersion(bytes[0]) }
        let stored = UInt32(
            littleEndian: bytes.loadUnaligned(fromByteOffset: checksumOffset, as: UInt32.self))
        let computed = CRC32C.checksum(UnsafeRawBufferPointer(rebasing: bytes[checksumStart...]))
        guard stored == computed else { throw .checksumMismatch(stored: stored, computed: computed) }
        func u64(_ offset: Int) -> UInt64 {
            UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
        }
        func length(_ index: Int) -> Int {
            Int(UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: 64 + index * 2, as: UInt16.self)))
        }
        let payloadLength = Int(
            UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: 76, as: UInt32.self)))
        let streamLength = length(0)
        let typeLength = length(1)
        let partitionKeyLength = length(2)
        let channelLength = length(3)
        let actorLength = length(4)
        let keyLength = length(5)
        let total = streamLength + typeLength + partitionKeyLength + channelLength + actorLength + keyLength
        guard headerSize + total + payloadLength == bytes.count else { throw .truncated(bytes.count) }
        let base = bytes.baseAddress!
        func text(_ start: Int, _ length: Int) -> String {
            String(decoding: UnsafeRawBufferPointer(start: base + start, count: length), as: UTF8.self)
        }
        let flags = bytes[1]
        let typeStart = headerSize + streamLength
        let partitionKeyStart = typeStart + typeLength
        let channelStart = partitionKeyStart + partitionKeyLength
        let actorStart = channelStart + channelLength
        let keyStart = actorStart + actorLength
        let payloadStart = keyStart + keyLength
        let stream = StreamName(text(headerSize, streamLength))
        let type = text(typeStart, typeLength)
        let partitionKey = text(partitionKeyStart, partitionKeyLength)
        // A channel record's partition key is its channel id: share the string instead of decoding it twice.
        let channelID =
            channelLength == partitionKeyLength
                && memcmp(base + partitionKeyStart, base + channelStart, channelLength) == 0
            ? partitionKey : text(channelStart, channelLength)
        let actor = text(actorStart, actorLength)
        let idempotencyKey = text(keyStart, keyLength)
        let payload = [UInt8](UnsafeRawBufferPointer(start: base + payloadStart, count: payloadLength))
        let hasChannel = flags & Flag.channel != 0
        return Record(
            id: RecordID(high: u64(32), low: u64(40)),
            stream: stream,
            shard: ShardID(UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: 2, as: UInt16.self))),
            seq: u64(8),
            type: type,
            partitionKey: partitionKey,
            channelID: hasChannel ? channelID : nil,
            channelSeq: hasChannel ? u64(16) : nil,
            actor: actor,
            createdAt: Timestamp(microseconds: Int64(bitPattern: u64(24))),
            idempotencyKey: flags & Flag.idempotencyKey != 0 ? idempotencyKey : nil,
            causationID: flags & Flag.causation != 0 ? RecordID(high: u64(48), low: u64(56)) : nil,
            payload: payload
        )
    }
}

private func hex(_ value: UInt32) -> String {
    let digits = String(value, radix: 16)
    return "0x" + String(repeating: "0", count: 8 - digits.count) + digits
}
