/// Fixed-width integers as big-endian bytes: keys that sort bytewise in numeric order.
///
/// Each width has its own overloads rather than one generic function: a generic call
/// from another module (the LMDB backend's scan loop) is not specialised and costs a metadata
/// lookup per field.
package enum BigEndian {
    package static func bytes(_ value: UInt16) -> [UInt8] { store(value) }
    package static func bytes(_ value: UInt32) -> [UInt8] { store(value) }
    package static func bytes(_ value: UInt64) -> [UInt8] { store(value) }
    package static func bytes(_ value: Int64) -> [UInt8] { store(value) }

    package static func read(_ bytes: UnsafeRawBufferPointer, at offset: Int = 0) -> UInt16 {
        load(bytes, at: offset)
    }

    package static func read(_ bytes: UnsafeRawBufferPointer, at offset: Int = 0) -> UInt32 {
        load(bytes, at: offset)
    }

    package static func read(_ bytes: UnsafeRawBufferPointer, at offset: Int = 0) -> UInt64 {
        load(bytes, at: offset)
    }

    package static func read(_ bytes: UnsafeRawBufferPointer, at offset: Int = 0) -> Int64 {
        load(bytes, at: offset)
    }

    private static func store<T: FixedWidthInteger>(_ value: T) -> [UInt8] {
        withUnsafeBytes(of: value.bigEndian) { Array($0) }
    }

    private static func load<T: FixedWidthInteger>(_ bytes: UnsafeRawBufferPointer, at offset: Int) -> T {
        T(bigEndian: bytes.loadUnaligned(fromByteOffset: offset, as: T.self))
    }
}
