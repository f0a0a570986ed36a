import EventLog

/// How a reset moves one shard's checkpoint.
public struct CheckpointMove: Sendable, Equatable {
    public var shard: ShardKey
    public var from: SequenceNumber
    public var to: SequenceNumber
    /// The shard's head when the move was made.
    public var head: SequenceNumber

    /// The records the group handles again (or for the first time) after the move.
    public var toReprocess: UInt64 { head > to ? head - to : 0 }
}

extension ResetTarget {
    /// Moves `group`'s checkpoint on each shard to this target and returns the moves; with
    /// `dryRun`, only says how it would move them. The one place a reset is made, for the admin
    /// API and the command line alike; a running group learns of it through its control.
    public func move(
        _ group: String, on shards: [ShardKey], in storage: any LogStorage, dryRun: Bool,
        control: ConsumerControl? = nil
    ) async throws -> [CheckpointMove] {
        var moves: [CheckpointMove] = []
        for shard in shards {
            let head = try await storage.shardInfo(shard).head
            let from = try await storage.checkpoint(group: group, shard: shard)
            let to = try await checkpoint(on: shard, in: storage)
            moves.append(CheckpointMove(shard: shard, from: from, to: to, head: head))
            guard !dryRun else { continue }
            try await storage.setCheckpoint(to, group: group, shard: shard)
            control?.requestReset(shard.shard, to: to)
        }
        return moves
    }
}
