/// Maps a partition key to a shard with a stable hash (FNV-1a, 64-bit), so one key always
/// lands in the same shard across restarts, versions and machines.
public enum Partitioner {
    public static func shard(for partitionKey: String, shardCount: Int) -> ShardID {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in partitionKey.utf8 {
            hash = (hash ^ UInt64(byte)) &* 0x100_0000_01B3
        }
        return ShardID(hash % UInt64(shardCount))
    }
}
