import EventLog
import LMDB

extension LMDBStorage {
    public func checkpoint(group: String, shard: ShardKey) throws -> SequenceNumber {
        try validate(shard)
        return try reading { transaction in
            try transaction.get(tables.checkpoints, key: StorageKeys.checkpoint(group: group, shard: shard))
                .map { $0.withUnsafeBytes { BigEndian.read($0) } } ?? 0
        }
    }

    public func setCheckpoint(_ seq: SequenceNumber, group: String, shard: ShardKey) async throws {
        try validate(shard)
        guard !group.isEmpty, !group.utf8.contains(0), group.utf8.count <= 256 else {
            throw EventLogError.invalidArgument("a consumer group name must have 1 to 256 bytes and no NUL")
        }
        try await writing { context in
            let head = context.meta(shard).head
            guard seq <= head else {
                throw EventLogError.invalidArgument("checkpoint \(seq) is past the head \(head) of \(shard)")
            }
            try context.transaction.put(
                context.tables.checkpoints, key: StorageKeys.checkpoint(group: group, shard: shard),
                value: BigEndian.bytes(seq) + BigEndian.bytes(context.now.microseconds))
        }
    }

    public func checkpoints() throws -> [Checkpoint] {
        try reading { transaction in
            try Self.checkpoints(in: transaction, tables: tables)
        }
    }

    static func checkpoints(in transaction: Transaction, tables: StorageTables) throws -> [Checkpoint] {
        try transaction.withCursor(tables.checkpoints) { cursor in
            var checkpoints: [Checkpoint] = []
            var entry = try cursor.first()
            while let (key, value) = entry {
                if let (group, stream, shard) = StorageKeys.parseCheckpoint(key), value.count == 16 {
                    checkpoints.append(
                        Checkpoint(
                            group: group, stream: stream, shard: shard,
                            seq: BigEndian.read(value, at: 0),
                            updatedAt: Timestamp(microseconds: BigEndian.read(value, at: 8))))
                }
                entry = try cursor.next()
            }
            return checkpoints
        }
    }
}
