/// A read model folded from the log, and the rules that say which records may join it.
///
/// Both halves are pure functions of the read model, in the decider's shape: `admit` decides
/// whether a request may be appended given the state, `apply` evolves the state by a record.
/// A backend runs `admit` against the state at the head the record will follow: LMDB in the
/// append's own transaction, a replicated backend before a publish conditional on that head.
/// The state is rebuildable by replaying the log.
public protocol Projection: Sendable {
    /// The tables the projection keeps; names are unique across projections.
    var tables: [String] { get }

    /// Refuses a request the read model does not allow (a post by a non-member, an edit of
    /// another's message): the thrown error is what the appender gets, and nothing is appended
    /// (in a multi-record append, nothing of it). It reads the store and never writes it.
    func admit(_ request: AppendRequest, given store: ProjectionStore) throws

    /// Folds one newly appended record into the tables. It must not fail for a record that
    /// `admit` let through: a thrown error aborts the whole group commit.
    func apply(_ record: Record, to store: ProjectionStore) throws

    /// Forgets what a record contributed once retention trims it, in the trim's transaction
    /// (the inbox drops expired events this way). It must not fail either.
    func trimmed(_ record: Record, from store: ProjectionStore) throws
}

extension Projection {
    /// A projection without rules admits every record.
    public func admit(_ request: AppendRequest, given store: ProjectionStore) throws {}

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
