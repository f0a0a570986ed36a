/// A read model folded from the log inside the append's own transaction, so that a write is
/// visible to readers the moment it is acknowledged, and rebuildable by replaying the log.
public protocol Projection: Sendable {
    /// The tables the projection keeps; names are unique across projections.
    var tables: [String] { get }

    /// Folds one newly appended record into the tables. It must not fail for a record that
    /// passed its request's precondition: a thrown error aborts the whole group commit.
    func apply(_ record: Record, to store: ProjectionStore) throws

    /// Forgets what a record contributed once retention trims it, in the trim's transaction
    /// (the inbox drops expired events this way). It must not fail either.
    func trimmed(_ record: Record, from store: ProjectionStore) throws
}

extension Projection {
    /// Most projections keep what they folded after the records are trimmed.
    public func trimmed(_ record: Record, from store: ProjectionStore) throws {}
}

/// Key-value access to projection (or state) tables, inside one transaction: read-write while appending,
/// read-only for readers. Keys sort bytewise.
public protocol ProjectionStore {
    func get(_ table: String, key: [UInt8]) throws -> [UInt8]?
    func put(_ table: String, key: [UInt8], value: [UInt8]) throws
    @discardableResult func delete(_ table: String, key: [UInt8]) throws -> Bool
    /// Visits entries whose key starts with `prefix`, from `start` (inclusive) forwards or, with
    /// `reverse`, from the last key at or before `start` backwards, until `body` returns false.
    func scan(
        _ table: String, prefix: [UInt8], from start: [UInt8]?, reverse: Bool,
        _ body: ([UInt8], [UInt8]) throws -> Bool
    ) throws
    /// The number of entries in a table.
    func count(_ table: String) throws -> Int
}

/// An append's check against the projections, run inside the write transaction just before
/// the record would get its sequence number; a thrown error refuses the append.
public typealias AppendPrecondition = @Sendable (any ProjectionStore) throws -> Void
