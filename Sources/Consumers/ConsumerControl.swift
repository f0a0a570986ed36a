import EventLog
import Synchronization

/// Moves a running group from outside: a reset reaches the shard's task at its next step, and
/// wakes it if it is waiting for records.
public final class ConsumerControl: Sendable {
    private struct State {
        var pending: [ShardID: SequenceNumber] = [:]
        var interrupts: [ShardID: [ObjectIdentifier: WaitInterrupt]] = [:]
    }

    private let state = Mutex(State())

    public init() {}

    /// Asks the shard's task to continue after `seq`, dropping the batch it has in hand.
    public func requestReset(_ shard: ShardID, to seq: SequenceNumber) {
        let interrupts = state.withLock { state in
            state.pending[shard] = seq
            return state.interrupts[shard].map { Array($0.values) } ?? []
        }
        for interrupt in interrupts { interrupt.fire() }
    }

    func takeReset(_ shard: ShardID) -> SequenceNumber? {
        state.withLock { $0.pending.removeValue(forKey: shard) }
    }

    /// Has `interrupt` fire on every reset of the shard requested until `unregister`: the
    /// shard's task waits for records with it.
    func register(_ interrupt: WaitInterrupt, for shard: ShardID) {
        state.withLock { $0.interrupts[shard, default: [:]][ObjectIdentifier(interrupt)] = interrupt }
    }

    func unregister(_ interrupt: WaitInterrupt, for shard: ShardID) {
        state.withLock { state in
            state.interrupts[shard]?[ObjectIdentifier(interrupt)] = nil
            if state.interrupts[shard]?.isEmpty == true { state.interrupts[shard] = nil }
        }
    }
}

/// Where a reset moves a checkpoint.
public enum ResetTarget: Sendable, Equatable {
    case sequenceNumber(SequenceNumber)
    case time(Timestamp)
    case trimHorizon
    case latest

    /// The checkpoint this target means on a shard (processing resumes after it).
    public func checkpoint(on shard: ShardKey, in storage: any LogStorage) async throws -> SequenceNumber {
        let info = try await storage.shardInfo(shard)
        switch self {
        case .sequenceNumber(let seq):
            guard seq <= info.head else {
                throw EventLogError.invalidArgument(
                    "sequence number \(seq) is past the head \(info.head) of \(shard)")
            }
            return seq
        case .time(let time): return try await storage.firstSequenceNumber(shard, atOrAfter: time) - 1
        case .trimHorizon: return info.firstSeq - 1
        case .latest: return info.head
        }
    }
}
