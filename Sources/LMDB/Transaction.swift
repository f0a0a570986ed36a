import CLMDB

/// A transaction, valid only inside the closure that received it.
///
/// Values returned as raw buffers point into the memory map and are valid until the
/// transaction ends (or, in a write transaction, until the next write): copy what you keep.
public struct Transaction {
    let handle: OpaquePointer
    /// Whether the transaction may not write.
    public let isReadOnly: Bool
    /// The reusable handle of a read transaction.
    private let reader: ReadHandle?

    init(handle: OpaquePointer, isReadOnly: Bool, reader: ReadHandle? = nil) {
        self.handle = handle
        self.isReadOnly = isReadOnly
        self.reader = reader
    }

    /// The id of the transaction: for a read, that of the last commit it sees.
    public var id: Int { Int(mdb_txn_id(handle)) }

    /// Opens a named database. Without `.create` a missing database throws `isNotFound`.
    public func openDatabase(_ name: String, options: Database.Options = []) throws(LMDBError) -> Database {
        var dbi: MDB_dbi = 0
        reader?.openedDatabase = true
        try check(mdb_dbi_open(handle, name, options.rawValue, &dbi))
        return Database(handle: dbi)
    }

    /// The sizes a key may have: LMDB's default build keeps keys of 1 to 511 bytes.
    public static let keySizes = 1...511

    /// Calls `body` with the value stored under `key`, or nil.
    public func withValue<R>(
        _ database: Database, key: UnsafeRawBufferPointer, _ body: (UnsafeRawBufferPointer?) throws -> R
    ) throws -> R {
        // No key of another size can be stored, so none is found (LMDB would call it an error).
        guard Self.keySizes.contains(key.count) else { return try body(nil) }
        var mdbKey = MDB_val(mv_size: key.count, mv_data: UnsafeMutableRawPointer(mutating: key.baseAddress))
        var mdbValue = MDB_val()
        let rc = mdb_get(handle, database.handle, &mdbKey, &mdbValue)
        if rc == MDB_NOTFOUND { return try body(nil) }
        try check(rc)
        return try body(UnsafeRawBufferPointer(mdbValue))
    }

    /// Calls `body` with the value stored under `key`, or nil.
    public func withValue<R>(
        _ database: Database, key: [UInt8], _ body: (UnsafeRawBufferPointer?) throws -> R
    ) throws -> R {
        try key.withUnsafeBytes { key in try withValue(database, key: key, body) }
    }

    /// The value stored under `key`, copied, or nil.
    public func get(_ database: Database, key: [UInt8]) throws -> [UInt8]? {
        try key.withUnsafeBytes { key in
            try withValue(database, key: key) { $0.map { Array($0) } }
        }
    }

    /// Stores `value` under `key`.
    public func put(
        _ database: Database, key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer,
        options: PutOptions = []
    ) throws(LMDBError) {
        var mdbKey = MDB_val(mv_size: key.count, mv_data: UnsafeMutableRawPointer(mutating: key.baseAddress))
        var mdbValue = MDB_val(
            mv_size: value.count, mv_data: UnsafeMutableRawPointer(mutating: value.baseAddress))
        try check(mdb_put(handle, database.handle, &mdbKey, &mdbValue, options.rawValue))
    }

    /// Stores `value` under `key`.
    public func put(_ database: Database, key: [UInt8], value: [UInt8], options: PutOptions = []) throws {
        try key.withUnsafeBytes { key in
            try value.withUnsafeBytes { value in
                try put(database, key: key, value: value, options: options)
            }
        }
    }

    /// Reserves `size` bytes under `key` and lets `fill` write them in place, saving a copy.
    public func reserve(
        _ database: Database, key: UnsafeRawBufferPointer, size: Int, options: PutOptions = [],
        fill: (UnsafeMutableRawBufferPointer) -> Void
    ) throws(LMDBError) {
        var mdbKey = MDB_val(mv_size: key.count, mv_data: UnsafeMutableRawPointer(mutating: key.baseAddress))
        var mdbValue = MDB_val(mv_size: size, mv_data: nil)
        try check(
            mdb_put(handle, database.handle, &mdbKey, &mdbValue, options.rawValue | UInt32(MDB_RESERVE)))
        fill(UnsafeMutableRawBufferPointer(start: mdbValue.mv_data, count: size))
    }

    /// Deletes `key`; returns whether it existed.
    @discardableResult
    public func delete(_ database: Database, key: UnsafeRawBufferPointer) throws(LMDBError) -> Bool {
        guard Self.keySizes.contains(key.count) else { return false }
        var mdbKey = MDB_val(mv_size: key.count, mv_data: UnsafeMutableRawPointer(mutating: key.baseAddress))
        let rc = mdb_del(handle, database.handle, &mdbKey, nil)
        if rc == MDB_NOTFOUND { return false }
        try check(rc)
        return true
    }

    /// Deletes `key`; returns whether it existed.
    @discardableResult
    public func delete(_ database: Database, key: [UInt8]) throws -> Bool {
        try key.withUnsafeBytes { key in try delete(database, key: key) }
    }

    /// Removes every entry of `database`, keeping the database itself.
    public func clear(_ database: Database) throws(LMDBError) {
        try check(mdb_drop(handle, database.handle, 0))
    }

    /// The number of entries in `database`.
    public func count(_ database: Database) throws(LMDBError) -> Int {
        var stat = MDB_stat()
        try check(mdb_stat(handle, database.handle, &stat))
        return stat.ms_entries
    }

    /// Runs `body` with a cursor over `database`.
    public func withCursor<R>(_ database: Database, _ body: (inout Cursor) throws -> R) throws -> R {
        var cursorHandle: OpaquePointer?
        try check(mdb_cursor_open(handle, database.handle, &cursorHandle))
        guard let cursorHandle else { throw LMDBError(code: 12) }
        defer { mdb_cursor_close(cursorHandle) }
        var cursor = Cursor(handle: cursorHandle)
        return try body(&cursor)
    }

    /// Runs `body` in a nested write transaction: a thrown error undoes only its writes.
    public func nested<R>(_ body: (Transaction) throws -> R) throws -> R {
        var child: OpaquePointer?
        try check(mdb_txn_begin(mdb_txn_env(handle), handle, 0, &child))
        guard let child else { throw LMDBError(code: 12) }
        let result: R
        do {
            result = try body(Transaction(handle: child, isReadOnly: false))
        } catch {
            mdb_txn_abort(child)
            throw error
        }
        try check(mdb_txn_commit(child))
        return result
    }
}

extension UnsafeRawBufferPointer {
    init(_ value: MDB_val) {
        self.init(start: value.mv_data, count: value.mv_size)
    }
}
