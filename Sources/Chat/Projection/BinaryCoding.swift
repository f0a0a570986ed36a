/// A compact, deterministic byte layout for projection values: the read path decodes dozens of
/// them per request, which JSON would make the slowest part of a history read.
struct BinaryWriter {
    private(set) var bytes: [UInt8] = []

    init(capacity: Int = 128) {
        bytes.reserveCapacity(capacity)
    }

    mutating func write(_ value: UInt64) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    mutating func write(_ value: Bool) {
        bytes.append(value ? 1 : 0)
    }

    mutating func write(_ text: String) {
        var text = text
        text.withUTF8 { utf8 in
            write(UInt64(utf8.count))
            bytes.append(contentsOf: utf8)
        }
    }

    mutating func write(_ text: String?) {
        write(text != nil)
        if let text { write(text) }
    }
}

/// Reads what `BinaryWriter` wrote; throws on anything short or malformed.
struct BinaryReader {
    private let bytes: [UInt8]
    private var offset = 0

    struct Malformed: Error {}

    init(_ bytes: [UInt8]) {
        self.bytes = bytes
    }

    mutating func readUInt64() throws -> UInt64 {
        guard offset + 8 <= bytes.count else { throw Malformed() }
        defer { offset += 8 }
        return bytes.withUnsafeBytes {
            UInt64(littleEndian: $0.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
        }
    }

    mutating func readBool() throws -> Bool {
        guard offset < bytes.count else { throw Malformed() }
        defer { offset += 1 }
        return bytes[offset] != 0
    }

    mutating func readString() throws -> String {
        let count = Int(try readUInt64())
        guard count >= 0, offset + count <= bytes.count else { throw Malformed() }
        defer { offset += count }
        return String(decoding: bytes[offset..<offset + count], as: UTF8.self)
    }

    mutating func readOptionalString() throws -> String? {
        try readBool() ? try readString() : nil
    }
}
