import EventLog
import Logging
import ServiceLifecycle

/// Runs one consumer group: a task per shard, in order within the shard, concurrently across
/// shards. When caught up it waits for the writer's commit wake-up, never a polling interval.
public struct ConsumerRunner: Service {
    public let storage: any LogStorage
    public let group: ConsumerGroupConfiguration
    public let handler: any RecordHandler
    public let status: ConsumerStatus
    let logger: Logger

    public init(
        storage: any LogStorage, group: ConsumerGroupConfiguration, handler: any RecordHandler,
        status: ConsumerStatus = ConsumerStatus(), logger: Logger
    ) {
        self.storage = storage
        self.group = group
        self.handler = handler
        self.status = status
        self.logger = logger
    }

    public func run() async throws {
        let shards = try storage.descriptor(group.stream).shards
        try await cancelWhenGracefulShutdown {
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                for shard in shards {
                    tasks.addTask {
                        do {
                            try await runShard(shard)
                        } catch is CancellationError {
                            return
                        } catch EventLogError.closed {
                            return
                        }
                    }
                }
                try await tasks.waitForAll()
            }
        }
    }

    private func runShard(_ shard: ShardKey) async throws {
        let stored = try storage.checkpoint(group: group.name, shard: shard)
        // Registering the checkpoint lets retention see the group even before it processes anything.
        try await storage.setCheckpoint(stored, group: group.name, shard: shard)
        var state = ShardConsumerState(checkpoint: stored, policy: group.retry)
        status.update(shard.shard) { $0.running = true }
        defer { status.update(shard.shard) { $0.running = false } }
        try await consume(shard, state: &state)
        // Stopping mid-batch: keep what is done, so a graceful restart redoes nothing.
        if let done = state.completedThrough {
            try await storage.setCheckpoint(done, group: group.name, shard: shard)
        }
    }

    private func consume(_ shard: ShardKey, state: inout ShardConsumerState) async throws {
        while !Task.isCancelled {
            switch state.next() {
            case .load(let after):
                let current = try storage.checkpoint(group: group.name, shard: shard)
                if current != after {
                    logger.info(
                        "checkpoint moved by a reset",
                        metadata: ["group": "\(group.name)", "shard": "\(shard)"])
                    state.reset(to: current)
                    continue
                }
                let records = try storage.loadNext(
                    shard, after: after, limit: group.batchSize, maxBytes: 4 << 20)
                if records.isEmpty {
                    do {
                        try await storage.waitForRecords(shard, after: after)
                    } catch is CancellationError {
                        return
                    }
                } else {
                    state.loaded(records)
                }
            case .deliver(let record, let attempt):
                do {
                    try await handler.handle(record)
                    state.delivered()
                    status.update(shard.shard) {
                        $0.processed += 1
                        $0.failingAttempts = 0
                    }
                } catch {
                    try await handleFailure(error, of: record, attempt: attempt, shard: shard, state: &state)
                }
            case .checkpoint(let seq):
                try await storage.setCheckpoint(seq, group: group.name, shard: shard)
                state.checkpointed(seq)
            }
        }
    }

    private func handleFailure(
        _ error: any Error, of record: Record, attempt: Int, shard: ShardKey, state: inout ShardConsumerState
    ) async throws {
        let description = String(describing: error)
        status.update(shard.shard) {
            $0.lastError = description
            $0.failingAttempts = attempt
        }
        switch state.failed() {
        case .retry(let delay):
            status.update(shard.shard) { $0.retries += 1 }
            try? await Task.sleep(for: delay)
        case .deadLetter(let attempts):
            logger.warning(
                "dead-lettered a record",
                metadata: [
                    "group": "\(group.name)", "position": "\(record.position)", "error": "\(description)",
                ])
            try await storage.addDeadLetter(
                DeadLetter(
                    group: group.name, stream: record.stream, shard: record.shard, seq: record.seq,
                    error: description,
                    attempts: attempts, failedAt: .now()))
            state.deadLettered()
            await handler.deadLettered(record, error: description)
            status.update(shard.shard) {
                $0.deadLettered += 1
                $0.failingAttempts = 0
            }
        }
    }
}
