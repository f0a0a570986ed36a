import CLMDB

/// An error returned by LMDB, carrying its return code.
public struct LMDBError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The LMDB or errno return code.
    public let code: Int32

    public init(code: Int32) {
        self.code = code
    }

    public var description: String {
        String(cString: mdb_strerror(code))
    }

    /// The map has no room left for the transaction's pages.
    public var isMapFull: Bool { code == MDB_MAP_FULL }

    /// Another process grew the map; the environment must adopt the new size.
    public var isMapResized: Bool { code == MDB_MAP_RESIZED }

    /// The device or quota has no space left.
    public var isNoSpace: Bool { code == 28 /* ENOSPC */ || code == 122 /* EDQUOT */ }

    /// The file or directory does not exist.
    public var isNotFound: Bool { code == 2 /* ENOENT */ || code == MDB_NOTFOUND }

    static let notFound = LMDBError(code: MDB_NOTFOUND)
    /// The environment was closed (reported as EBADF).
    public static let closed = LMDBError(code: 9)
    public var isClosed: Bool { code == 9 }
}

/// Throws the LMDB error for a non-zero return code.
@inline(__always)
func check(_ returnCode: Int32) throws(LMDBError) {
    if returnCode != 0 {
        throw LMDBError(code: returnCode)
    }
}
