/// Fixed-width integers as big-endian bytes: keys that sort bytewise in numeric order.
package enum BigEndian {
    package static func bytes<T: FixedWidthInteger>(_ value: T) -> [UInt8] {
        withUnsafeBytes(of: value.bigEndian) { Array($0) }
    }

    package static func read<T: FixedWidthInteger>(_ bytes: UnsafeRawBufferPointer, at offset: Int = 0) -> T {
        T(bigEndian: bytes.loadUnaligned(fromByteOffset: offset, as: T.self))
    }
}
