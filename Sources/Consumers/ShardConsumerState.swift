import EventLog

/// The consumer logic for one shard as a state machine with no I/O: the runner asks `next()`
/// what to do, does it, and reports the outcome. The checkpoint is "last fully processed":
/// processing resumes at checkpoint + 1, and a batch is checkpointed once all of it is done
/// (delivered or dead-lettered), so delivery is at least once.
struct ShardConsumerState {
    enum Action: Equatable {
        /// Read the next batch after this seq (and wait for a commit if there is none).
        case load(after: SequenceNumber)
        /// Give this record to the handler; `attempt` counts from 1.
        case deliver(Record, attempt: Int)
        /// Store this checkpoint.
        case checkpoint(SequenceNumber)
    }

    enum FailureOutcome: Equatable {
        case retry(after: Duration)
        case deadLetter(attempts: Int)
    }

    private(set) var checkpoint: SequenceNumber
    private let policy: RetryPolicy
    private var batch: [Record] = []
    private var index = 0
    private var attempt = 1

    init(checkpoint: SequenceNumber, policy: RetryPolicy) {
        self.checkpoint = checkpoint
        self.policy = policy
    }

    func next() -> Action {
        if index < batch.count { return .deliver(batch[index], attempt: attempt) }
        if let last = batch.last { return .checkpoint(last.seq) }
        return .load(after: checkpoint)
    }

    /// The last seq of the current batch that is done but not yet checkpointed.
    var completedThrough: SequenceNumber? {
        index > 0 ? batch[index - 1].seq : nil
    }

    /// A batch was read (records with seq > checkpoint, in order).
    mutating func loaded(_ records: [Record]) {
        batch = records
        index = 0
        attempt = 1
    }

    mutating func delivered() {
        index += 1
        attempt = 1
    }

    /// The handler failed: retry after a pause, or give up and dead-letter.
    mutating func failed() -> FailureOutcome {
        if attempt >= policy.maxAttempts { return .deadLetter(attempts: attempt) }
        defer { attempt += 1 }
        return .retry(after: policy.delay(afterAttempt: attempt))
    }

    /// The current record was dead-lettered; move past it.
    mutating func deadLettered() {
        delivered()
    }

    mutating func checkpointed(_ seq: SequenceNumber) {
        checkpoint = seq
        batch = []
        index = 0
    }

    /// The stored checkpoint moved (a reset): drop the batch and continue from there.
    mutating func reset(to seq: SequenceNumber) {
        checkpoint = seq
        batch = []
        index = 0
        attempt = 1
    }
}
