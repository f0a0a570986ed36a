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
    public let control: ConsumerControl
    let logger: Logger

    public init(
        storage: any LogStorage, group: ConsumerGroupConfiguration, handler: any RecordHandler,
        status: ConsumerStatus = ConsumerStatus(), control: ConsumerControl = ConsumerControl(),
        logger: Logger
    ) {
        self.storage = storage
        self.group = group
        self.handler = handler
        self.status = status
        self.control = control
        self.logger = logger
    }

    public func run() async throws {
        let shards = try storage.descriptor(group.stream).shards
        let shared = storage.sharedGroup(group.name)
        try await cancelWhenGracefulShutdown {
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                for shard in shards {
                    tasks.addTask {
                        do {
                            if let shared {
                                try await runShared(shard, of: shared)
                            } else {
                                try await runShard(shard)
                            }
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
        let stored = try await storage.checkpoint(group: group.name, shard: shard)
        var writer = CheckpointWriter(stored: stored, interval: group.checkpointInterval)
        // Registering the checkpoint lets retention see the group even before it processes anything.
        try await storeCheckpoint(stored, shard: shard, in: &writer)
        var state = ShardConsumerState(checkpoint: stored, policy: group.retry)
        status.update(shard.shard) { $0.running = true }
        defer { status.update(shard.shard) { $0.running = false } }
        // A reset request ends a wait for records at once.
        let interrupt = WaitInterrupt()
        control.register(interrupt, for: shard.shard)
        defer { control.unregister(interrupt, for: shard.shard) }
        try await consume(shard, state: &state, checkpoints: &writer, interrupt: interrupt)
        // Stopping mid-batch: keep what is done, so a graceful restart redoes nothing.
        let done = state.completedThrough ?? state.checkpoint
        if done != writer.stored {
            try await storeCheckpoint(done, shard: shard, in: &writer)
        }
    }

    /// When a batch's checkpoint is stored: at once, or at most once per interval while records
    /// keep coming (and always before the shard goes idle).
    struct CheckpointWriter {
        var stored: SequenceNumber
        let interval: Duration
        var lastWrite = ContinuousClock.now

        func shouldStore() -> Bool {
            interval == .zero || ContinuousClock.now - lastWrite >= interval
        }

        mutating func didStore(_ seq: SequenceNumber) {
            stored = seq
            lastWrite = ContinuousClock.now
        }
    }

    private func consume(
        _ shard: ShardKey, state: inout ShardConsumerState, checkpoints: inout CheckpointWriter,
        interrupt: WaitInterrupt
    ) async throws {
        while !Task.isCancelled {
            if let reset = control.takeReset(shard.shard) {
                // Stored here too, in case a batch finishing meanwhile overwrote the requested one.
                try await storage.setCheckpoint(reset, group: group.name, shard: shard)
                checkpoints.didStore(reset)
                logger.info(
                    "reset",
                    metadata: ["group": "\(group.name)", "shard": "\(shard)", "checkpoint": "\(reset)"])
                state.reset(to: reset)
                continue
            }
            switch state.next() {
            case .load(let after):
                let records = try await storage.loadNext(
                    shard, after: after, limit: group.batchSize, maxBytes: 4 << 20)
                if records.isEmpty {
                    await handler.batchHandled()
                    // Also here: a reset may have cut a batch short of its checkpoint step. A
                    // steady stream pauses between records: only a shard that stays idle pays a
                    // sync for its checkpoint.
                    if after != checkpoints.stored {
                        if try await waitForRecords(
                            shard, after: after, interrupt: interrupt, limit: group.idleCheckpointDelay)
                        {
                            continue
                        }
                        try await storeCheckpoint(after, shard: shard, in: &checkpoints)
                    }
                    let refused = after != checkpoints.stored
                    _ = try await waitForRecords(
                        shard, after: after, interrupt: interrupt,
                        limit: refused ? group.refusedCheckpointRetryDelay : nil)
                } else {
                    state.loaded(records)
                }
            case .deliver(let record, let attempt):
                try await deliver(record, attempt: attempt, shard: shard, state: &state)
            case .checkpoint(let seq):
                await handler.batchHandled()
                if checkpoints.shouldStore() {
                    try await storeCheckpoint(seq, shard: shard, in: &checkpoints)
                }
                state.checkpointed(seq)
            }
        }
    }

    /// Gives one record to the handler, and retries or dead-letters it when that fails.
    private func deliver(
        _ record: Record, attempt: Int, shard: ShardKey, state: inout ShardConsumerState
    ) async throws {
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
    }

    /// Runs a shard of a group the nodes of a cluster share: this node handles the positions it
    /// claims, and the group's checkpoint moves as it completes them. A reset moved the group
    /// for every node already; a claim taken before it is given back.
    private func runShared(_ shard: ShardKey, of shared: any SharedGroup) async throws {
        status.update(shard.shard) { $0.running = true }
        defer { status.update(shard.shard) { $0.running = false } }
        // Only its delivery and retry steps: the checkpoint is the cluster's.
        var state = ShardConsumerState(checkpoint: 0, policy: group.retry)
        while !Task.isCancelled {
            _ = control.takeReset(shard.shard)
            let claim: (any RecordClaim)?
            do {
                claim = try await shared.claim(shard, wait: .seconds(1))
            } catch is CancellationError {
                return
            } catch EventLogError.closed {
                return
            } catch {
                // The cluster is out of reach: try again shortly, as a follower does.
                status.update(shard.shard) { $0.lastError = "claiming records failed: \(error)" }
                logger.warning(
                    "claiming records failed", metadata: ["group": "\(group.name)", "error": "\(error)"])
                try? await Task.sleep(for: .milliseconds(500))
                continue
            }
            guard let claim else {
                await handler.batchHandled()
                continue
            }
            state.loaded(claim.records)
            // A slow handler (a model's reply, its retries) keeps the claim while it works.
            let keepingAlive = Task {
                while (try? await Task.sleep(for: claim.keepAliveInterval)) != nil { await claim.keepAlive() }
            }
            defer { keepingAlive.cancel() }
            while case .deliver(let record, let attempt) = state.next(), !Task.isCancelled {
                try await deliver(record, attempt: attempt, shard: shard, state: &state)
            }
            guard !Task.isCancelled, control.takeReset(shard.shard) == nil else {
                await claim.giveBack()
                continue
            }
            await handler.batchHandled()
            do {
                try await claim.complete()
            } catch {
                // Not acknowledged (the cluster out of reach, the group reset meanwhile): the
                // records come again, to this node or another, and handlers tolerate that.
                logger.warning(
                    "completing a claim failed", metadata: ["group": "\(group.name)", "error": "\(error)"])
            }
        }
    }

    /// Stores a checkpoint. A full map refuses it without stopping the group: the records are
    /// handled, the older checkpoint stands (a restart would hand them over again, which
    /// handlers already tolerate), and a later batch, or the idle shard's retry, stores it once
    /// there is room again.
    private func storeCheckpoint(
        _ seq: SequenceNumber, shard: ShardKey, in checkpoints: inout CheckpointWriter
    ) async throws {
        do {
            try await storage.setCheckpoint(seq, group: group.name, shard: shard)
            checkpoints.didStore(seq)
        } catch EventLogError.storageFull(let reason) {
            status.update(shard.shard) {
                $0.lastError = "checkpoint not stored: storage full: \(reason)"
                $0.checkpointsRefused += 1
            }
            logger.warning(
                "checkpoint not stored: storage full",
                metadata: ["group": "\(group.name)", "shard": "\(shard)", "checkpoint": "\(seq)"])
        }
    }

    /// Waits for a commit past `after` or a reset request, for at most `limit` when given.
    /// Returns whether one came; a cancelled wait returns true, and the loop then stops.
    private func waitForRecords(
        _ shard: ShardKey, after: SequenceNumber, interrupt: WaitInterrupt, limit: Duration?
    ) async throws -> Bool {
        do {
            return try await storage.waitForRecords(shard, after: after, interrupt: interrupt, limit: limit)
        } catch is CancellationError {
            return true
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
