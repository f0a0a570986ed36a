import Dispatch
import EventLog
import EventLogLMDB
import Foundation
import Logging
import NATS
import Synchronization

/// Folds one shard's JetStream stream into the node's replica, in order, from the replica's
/// head on: the thread that makes this node see what every node appends.
///
/// It runs on a thread of its own because the client's reads block. A failure (the cluster
/// unreachable, a leader change) drops the subscription; the next one starts again after the
/// replica's head, so nothing is skipped or folded twice.
final class ShardFollower: Sendable {
    let shard: ShardKey
    private let streamName: String
    private let subject: String
    private let connection: NATSConnection
    private let replica: LMDBStorage
    private let waiters: ProposalWaiters
    private let logger: Logger
    private let stopping = Atomic<Bool>(false)
    private let current = Mutex<StreamFollower?>(nil)
    private let stopped = DispatchSemaphore(value: 0)
    /// The most records folded in one commit.
    private static let maxBatch = 1024

    init(
        shard: ShardKey, layout: JetStreamLayout, connection: NATSConnection, replica: LMDBStorage,
        waiters: ProposalWaiters, logger: Logger
    ) {
        self.waiters = waiters
        self.shard = shard
        self.streamName = layout.streamName(shard)
        self.subject = layout.subject(shard)
        self.connection = connection
        self.replica = replica
        self.logger = logger
        let thread = Thread { [self] in
            run()
            stopped.signal()
        }
        thread.name = "chatlog-follow-\(shard.stream)-\(shard.shard)"
        thread.start()
    }

    /// Stops following and waits for the thread to end.
    func stop() {
        stopping.store(true, ordering: .releasing)
        current.withLock { $0?.close() }
        stopped.wait()
    }

    private var isStopping: Bool { stopping.load(ordering: .acquiring) }

    private func run() {
        var failures = 0
        while !isStopping {
            do {
                try follow()
                failures = 0
            } catch {
                if isStopping { return }
                failures += 1
                logger.warning(
                    "following \(streamName) failed; retrying",
                    metadata: ["error": "\(error)", "attempt": "\(failures)"])
                Thread.sleep(forTimeInterval: min(0.05 * Double(1 << min(failures, 6)), 2))
            }
        }
    }

    /// Follows until an error or `stop`.
    private func follow() throws {
        let folded = try replica.foldedSource(shard)
        let follower = try connection.follow(stream: streamName, subjects: subject, from: folded + 1)
        current.withLock { $0 = follower }
        defer { current.withLock { $0 = nil } }
        while !isStopping {
            guard let first = try follower.next(timeout: .seconds(1)) else { continue }
            var batch = [first]
            while batch.count < Self.maxBatch, follower.pending > 0,
                let message = try follower.next(timeout: .milliseconds(1))
            {
                batch.append(message)
            }
            try fold(batch)
        }
    }

    /// Folds a batch of messages into the replica in one commit, blocking this thread (never
    /// the cooperative pool), and hands each proposal's outcome to the append that made it.
    private func fold(_ messages: [StoredMessage]) throws {
        var proposals: [Proposal] = []
        proposals.reserveCapacity(messages.count)
        for message in messages {
            do {
                var proposal = try ProposalMessage.decode(data: message.data, headers: message.headers)
                proposal.source = message.sequence
                proposals.append(proposal)
            } catch {
                // Not a proposal (a stray publish, damaged bytes): it never becomes a record,
                // and it holds up nothing after it.
                logger.error(
                    "skipped a message that is not a proposal",
                    metadata: ["stream": "\(streamName)", "seq": "\(message.sequence)", "error": "\(error)"])
            }
        }
        let through = messages.last!.sequence
        let done = DispatchSemaphore(value: 0)
        let result = Mutex<Result<[Result<AppendResult, any Error>], any Error>?>(nil)
        let (replica, shard) = (replica, shard)
        Task {
            let outcome: Result<[Result<AppendResult, any Error>], any Error>
            do {
                outcome = .success(try await replica.fold(proposals, shard: shard, through: through))
            } catch {
                outcome = .failure(error)
            }
            result.withLock { $0 = outcome }
            done.signal()
        }
        done.wait()
        let outcomes = try result.withLock { $0! }.get()
        for (proposal, outcome) in zip(proposals, outcomes) { waiters.decide(proposal.identity.id, outcome) }
        waiters.fold(shard, through: through)
    }
}
