/// A record's id: a time-ordered UUID (version 7), printed in lowercase.
public struct RecordID: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The first eight bytes, big-endian.
    public var high: UInt64
    /// The last eight bytes, big-endian.
    public var low: UInt64

    public init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    /// A version-7 id for `time`: milliseconds in the top 48 bits, the microseconds within
    /// the millisecond in the next 12, then 62 random bits.
    public init(time: Timestamp, random: UInt64) {
        let millis = UInt64(bitPattern: time.microseconds / 1000) & 0xFFFF_FFFF_FFFF
        let subMillis = UInt64(time.microseconds % 1000) & 0xFFF
        high = millis << 16 | 0x7000 | subMillis
        low = (random & 0x3FFF_FFFF_FFFF_FFFF) | 0x8000_0000_0000_0000
    }

    /// Parses the 36-character hyphenated form, in either case.
    public init?(_ text: String) {
        var hex: [UInt8] = []
        hex.reserveCapacity(32)
        for (index, byte) in text.utf8.enumerated() {
            if [8, 13, 18, 23].contains(index) {
                guard byte == UInt8(ascii: "-") else { return nil }
                continue
            }
            guard let nibble = Self.nibble(byte) else { return nil }
            hex.append(nibble)
        }
        guard hex.count == 32, text.utf8.count == 36 else { return nil }
        high = hex[0..<16].reduce(0) { $0 << 4 | UInt64($1) }
        low = hex[16..<32].reduce(0) { $0 << 4 | UInt64($1) }
    }

    public static func < (lhs: Self, rhs: Self) -> Bool {
        (lhs.high, lhs.low) < (rhs.high, rhs.low)
    }

    public var description: String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(36)
        for (index, word) in [high, low].enumerated() {
            for nibbleIndex in 0..<16 {
                let position = index * 16 + nibbleIndex
                if position == 8 || position == 12 || position == 16 || position == 20 {
                    out.append(UInt8(ascii: "-"))
                }
                out.append(digits[Int(word >> UInt64(60 - nibbleIndex * 4) & 0xF)])
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    private static func nibble(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}

/// A fast pseudo-random source for id bits, seeded from the system generator.
package struct IDRandomSource {
    private var state: UInt64

    package init() {
        var system = SystemRandomNumberGenerator()
        state = system.next()
    }

    /// SplitMix64: good statistical quality, one multiply-xorshift chain per value.
    package mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
