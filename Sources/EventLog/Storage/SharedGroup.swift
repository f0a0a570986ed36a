/// A consumer group that the nodes of a cluster run together: each record goes to one node,
/// in order within a shard, and a record whose node dies before finishing it goes to another.
/// (On one node a group simply reads the log after its checkpoint.)
public protocol SharedGroup: Sendable {
    /// Takes the next position of `shard` for this node, waiting at most `wait` for one; nil
    /// when none came. No other node gets a later one until this claim is completed or given
    /// back, which keeps the shard's order.
    func claim(_ shard: ShardKey, wait: Duration) async throws -> (any RecordClaim)?
}

/// Records a node has taken from a shared group. An unfinished claim goes to another node
/// once it is given back, or when its node stops keeping it alive.
public protocol RecordClaim: Sendable {
    /// The record the claimed position became; empty when it became none (a refused
    /// append): completing the claim still moves the group past it.
    var records: [Record] { get }
    /// Marks every record of the claim processed: the group's checkpoint moves past them.
    func complete() async throws
    /// Hands the claim back for another node to take at once.
    func giveBack() async
    /// Says the work on the claim goes on, so it is not handed to another node meanwhile.
    func keepAlive() async
    /// How often to say so while the work goes on.
    var keepAliveInterval: Duration { get }
}
