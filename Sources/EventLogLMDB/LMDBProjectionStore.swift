import EventLog
import LMDB

/// `ProjectionStore` over an LMDB transaction: each projection table is a database
/// `projection/NAME`, each state table a database `state/NAME`.
struct LMDBProjectionStore: ProjectionStore {
    let transaction: Transaction
    let databases: [String: Database]

    static func databaseName(_ table: String) -> String { "projection/\(table)" }

    static func stateDatabaseName(_ table: String) -> String { "state/\(table)" }

    private func database(_ table: String) throws -> Database {
        guard let database = databases[table] else {
            throw EventLogError.invalidArgument("no table '\(table)'")
        }
        return database
    }

    func get(_ table: String, key: [UInt8]) throws -> [UInt8]? {
        try transaction.get(try database(table), key: key)
    }

    func put(_ table: String, key: [UInt8], value: [UInt8]) throws {
        guard !transaction.isReadOnly else { throw EventLogError.readOnly }
        try transaction.put(try database(table), key: key, value: value)
    }

    @discardableResult
    func delete(_ table: String, key: [UInt8]) throws -> Bool {
        guard !transaction.isReadOnly else { throw EventLogError.readOnly }
        return try transaction.delete(try database(table), key: key)
    }

    func scan(
        _ table: String, prefix: [UInt8], from start: [UInt8]?, reverse: Bool,
        _ body: ([UInt8], [UInt8]) throws -> Bool
    ) throws {
        try transaction.withCursor(try database(table)) { cursor in
            var entry: Cursor.Entry?
            if reverse {
                entry = try Self.lastAtOrBefore(start ?? Self.end(of: prefix), in: &cursor)
            } else {
                let key = start ?? prefix
                entry = key.isEmpty ? try cursor.first() : try cursor.seek(atLeast: key)
            }
            while let (key, value) = entry, key.starts(with: prefix) {
                guard try body(Array(key), Array(value)) else { return }
                entry = reverse ? try cursor.previous() : try cursor.next()
            }
        }
    }

    func count(_ table: String) throws -> Int {
        try transaction.count(try database(table))
    }

    /// A key after every key that starts with `prefix`.
    private static func end(of prefix: [UInt8]) -> [UInt8] {
        prefix + [UInt8](repeating: 0xFF, count: 64)
    }

    private static func lastAtOrBefore(_ key: [UInt8], in cursor: inout Cursor) throws -> Cursor.Entry? {
        guard let entry = try cursor.seek(atLeast: key) else { return try cursor.last() }
        return entry.key.elementsEqual(key) ? entry : try cursor.previous()
    }
}
