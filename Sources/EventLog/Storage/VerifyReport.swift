/// The outcome of checking a log's invariants.
public struct VerifyReport: Sendable {
    /// One broken invariant and where it is.
    public struct Violation: Sendable, Equatable, CustomStringConvertible {
        /// What kind of check failed: `checksum`, `sequence`, `channel_sequence`, `index`, `counters`,
        /// `time`, `checkpoint`.
        public var check: String
        /// Where: a position, a channel or a consumer group.
        public var location: String
        public var message: String

        public init(check: String, location: String, message: String) {
            self.check = check
            self.location = location
            self.message = message
        }

        public var description: String { "[\(check)] \(location): \(message)" }
    }

    public var recordsChecked: UInt64 = 0
    public var channelsChecked = 0
    public var indexEntriesChecked = 0
    public var violations: [Violation] = []
    /// Further violations beyond the ones kept.
    public var omittedViolations = 0

    public init() {}

    public var isSound: Bool { violations.isEmpty }

    package static let maxKept = 1000

    public mutating func add(_ check: String, _ location: String, _ message: String) {
        if violations.count < Self.maxKept {
            violations.append(Violation(check: check, location: location, message: message))
        } else {
            omittedViolations += 1
        }
    }
}
