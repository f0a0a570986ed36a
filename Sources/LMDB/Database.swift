import CLMDB

/// A handle to a named database inside an environment; valid for the environment's lifetime.
public struct Database: Hashable, Sendable {
    let handle: MDB_dbi

    init(handle: MDB_dbi) {
        self.handle = handle
    }

    /// How a database is opened.
    public struct Options: OptionSet, Sendable {
        public let rawValue: UInt32
        public init(rawValue: UInt32) { self.rawValue = rawValue }

        /// Create the database if it does not exist (write transactions only).
        public static let create = Options(rawValue: UInt32(MDB_CREATE))
    }
}

/// Flags for a put.
public struct PutOptions: OptionSet, Sendable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// The key is greater than every key in the database: a fast append at the end.
    public static let append = PutOptions(rawValue: UInt32(MDB_APPEND))
    /// Fail with `keyExists` rather than overwrite.
    public static let noOverwrite = PutOptions(rawValue: UInt32(MDB_NOOVERWRITE))
}
