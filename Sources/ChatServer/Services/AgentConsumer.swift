import Chat
import Consumers
import EventLog
import Logging

/// The `agent` consumer group: the chat agent behind the consumer runtime's retries and
/// dead letters; a record it gives up on becomes an `agent.failed` record in its channel.
public struct AgentConsumer: RecordHandler {
    /// The agent's consumer group name.
    public static let group = "agent"

    let agent: AgentHandler
    let logger: Logger

    public init(chat: ChatService, responder: any Responder, logger: Logger) {
        self.agent = AgentHandler(chat: chat, responder: responder)
        self.logger = logger
    }

    public func handle(_ record: Record) async throws {
        try await agent.handle(record)
    }

    public func deadLettered(_ record: Record, error: String) async {
        do {
            try await agent.failed(record, error: error)
        } catch {
            logger.error(
                "could not record the agent's failure",
                metadata: ["position": "\(record.position)", "error": "\(error)"])
        }
    }

    /// The agent group's runner.
    public static func runner(
        storage: any LogBackend, chat: ChatService, responder: any Responder, retry: RetryPolicy,
        status: ConsumerStatus,
        control: ConsumerControl = ConsumerControl(), logger: Logger
    ) -> ConsumerRunner {
        var group = ConsumerGroupConfiguration(name: Self.group, stream: .chatEvents)
        group.retry = retry
        // Replies carry idempotency keys, so a replay after a crash answers nothing twice: the
        // checkpoint need not cost a sync per batch, nor one per pause, while messages keep coming.
        group.checkpointInterval = .seconds(1)
        group.idleCheckpointDelay = .milliseconds(100)
        return ConsumerRunner(
            storage: storage, group: group,
            handler: AgentConsumer(chat: chat, responder: responder, logger: logger),
            status: status, control: control, logger: logger)
    }
}
