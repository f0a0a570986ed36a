/// A consumer group that the nodes of a cluster run together: each record goes to one node,
/// in order within a shard, and a record whose node dies before finishing it goes to another.
/// (On one node a group simply reads the log after its checkpoint.)
public protocol SharedGroup: Sendable {
    /// Takes the next records of `shard` for this node, up to `limit`, waiting at most `wait`
    /// for them; nil when none came. No other node gets records after them until this claim
    /// is completed or given back.
    func claim(_ shard: ShardKey, limit: Int, wait: Duration) async throws -> (any RecordClaim)?
}

/// Records a node has taken from a shared group. An unfinished claim goes to another node
/// once it is given back, or when its node stops keeping it alive.
public protocol RecordClaim: Sendable {
    /// The records, in order. Empty when the positions claimed became no record (refused
    /// appends): completing it still moves the group past them.
    var records: [Record] { get }
    /// Marks every record of the claim processed: the group's checkpoint moves past them.
    func complete() async throws
    /// Hands the claim back for another node to take at once.
    func giveBack() async
    /// Says the work on the claim goes on, so it is not handed to another node meanwhile.
    func keepAlive() async
}
