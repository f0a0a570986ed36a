/// A digest of one projection table: its entry count and a checksum over every key and value
/// in key order, so that two states compare byte for byte without holding either.
public struct TableDigest: Sendable, Equatable {
    public var entries: Int
    public var checksum: UInt32

    package init(entries: Int, checksum: UInt32) {
        self.entries = entries
        self.checksum = checksum
    }
}
