import CLMDB

/// A position in a database, moved with the methods below; valid inside `withCursor`.
///
/// Each move returns the entry it lands on, or nil past either end. The buffers point into
/// the map and are valid until the transaction ends or the next write.
public struct Cursor {
    /// One key and value.
    public typealias Entry = (key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer)

    let handle: OpaquePointer

    public mutating func first() throws -> Entry? { try move(MDB_FIRST) }
    public mutating func last() throws -> Entry? { try move(MDB_LAST) }
    public mutating func next() throws -> Entry? { try move(MDB_NEXT) }
    public mutating func previous() throws -> Entry? { try move(MDB_PREV) }

    /// Moves to the first entry whose key is greater than or equal to `key`.
    public mutating func seek(atLeast key: UnsafeRawBufferPointer) throws -> Entry? {
        if key.isEmpty { return try first() }
        // A longer key than any stored: its longest storable prefix sorts no later.
        let key = UnsafeRawBufferPointer(rebasing: key.prefix(Transaction.keySizes.upperBound))
        var mdbKey = MDB_val(mv_size: key.count, mv_data: UnsafeMutableRawPointer(mutating: key.baseAddress))
        var mdbValue = MDB_val()
        let rc = mdb_cursor_get(handle, &mdbKey, &mdbValue, MDB_SET_RANGE)
        if rc == MDB_NOTFOUND { return nil }
        try check(rc)
        return (UnsafeRawBufferPointer(mdbKey), UnsafeRawBufferPointer(mdbValue))
    }

    /// Moves to the first entry whose key is greater than or equal to `key`.
    public mutating func seek(atLeast key: [UInt8]) throws -> Entry? {
        try key.withUnsafeBytes { try seek(atLeast: $0) }
    }

    /// Deletes the entry under the cursor; a following `next()` lands on the entry after it.
    public mutating func deleteCurrent() throws(LMDBError) {
        try check(mdb_cursor_del(handle, 0))
    }

    private mutating func move(_ operation: MDB_cursor_op) throws -> Entry? {
        var mdbKey = MDB_val()
        var mdbValue = MDB_val()
        let rc = mdb_cursor_get(handle, &mdbKey, &mdbValue, operation)
        if rc == MDB_NOTFOUND { return nil }
        try check(rc)
        return (UnsafeRawBufferPointer(mdbKey), UnsafeRawBufferPointer(mdbValue))
    }
}
