import EventLog

/// A consumer group's position on one shard: its checkpoint (the last processed seq) and the
/// shard's head.
public struct GroupPosition: Sendable, Equatable {
    public var shard: ShardKey
    public var checkpoint: SequenceNumber
    public var head: SequenceNumber

    public var lag: UInt64 { head > checkpoint ? head - checkpoint : 0 }

    /// Every stored group's positions, groups by name and shards in stored order.
    public static func all(in storage: any LogStorage) async throws -> [(
        group: String, shards: [GroupPosition]
    )] {
        let checkpoints = try await storage.checkpoints()
        var groups: [(group: String, shards: [GroupPosition])] = []
        for group in Set(checkpoints.map(\.group)).sorted() {
            var shards: [GroupPosition] = []
            for checkpoint in checkpoints where checkpoint.group == group {
                let shard = ShardKey(stream: checkpoint.stream, shard: checkpoint.shard)
                let head = try await storage.shardInfo(shard).head
                shards.append(GroupPosition(shard: shard, checkpoint: checkpoint.seq, head: head))
            }
            groups.append((group, shards))
        }
        return groups
    }
}
