import EventLog
import Synchronization

/// UUIDs as lowercase strings, for request and event ids. Foundation's
/// `UUID()` opens /dev/urandom on every call here, which showed up in every request's profile;
/// this draws from SplitMix64 over an atomic counter seeded once from the system generator.
package enum RandomUUID {
    private static let state: Atomic<UInt64> = {
        var system = SystemRandomNumberGenerator()
        return Atomic(system.next())
    }()

    private static func next() -> UInt64 {
        var z = state.wrappingAdd(0x9E37_79B9_7F4A_7C15, ordering: .relaxed).newValue
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

    /// A version 4 UUID: 122 random bits.
    package static func make() -> String {
        format(high: next() & 0xFFFF_FFFF_FFFF_0FFF | 0x0000_0000_0000_4000, low: next())
    }

    /// A version 7 UUID: the Unix time in milliseconds, then 74 random bits. Ids made later
    /// sort later (within a millisecond, in any order), so a table keyed by them grows at its
    /// end instead of dirtying a random page per insert.
    package static func makeTimeOrdered(at time: Timestamp) -> String {
        let milliseconds = UInt64(max(0, time.microseconds / 1000)) & 0xFFFF_FFFF_FFFF
        return format(high: milliseconds << 16 | 0x7000 | next() & 0x0FFF, low: next())
    }

    private static func format(high: UInt64, low: UInt64) -> String {
        let low = low & 0x3FFF_FFFF_FFFF_FFFF | 0x8000_0000_0000_0000
        return String(unsafeUninitializedCapacity: 36) { buffer in
            var index = 0
            for (word, range) in [(high, 0..<16), (low, 16..<32)] {
                for nibble in range {
                    if nibble == 8 || nibble == 12 || nibble == 16 || nibble == 20 {
                        buffer[index] = UInt8(ascii: "-")
                        index += 1
                    }
                    let shift = UInt64(60 - (nibble % 16) * 4)
                    buffer[index] = hexDigits[Int((word >> shift) & 0xF)]
                    index += 1
                }
            }
            return index
        }
    }
}
