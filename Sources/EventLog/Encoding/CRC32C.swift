import CChecksum

/// CRC-32C (Castagnoli), the checksum Kafka and many storage engines use for records; computed
/// with the CPU's crc32 instruction where there is one.
package enum CRC32C {
    package static func checksum(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
        chatlog_crc32c(0, bytes.baseAddress, bytes.count)
    }
}
