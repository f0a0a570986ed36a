import Chat
import Consumers
import EventLog
import Logging

/// The `delivery` consumer group: hands every committed `chat_events` record to the hub,
/// which fans it out to the channel's subscribers.
struct DeliveryConsumer: RecordHandler {
    /// The delivery consumer group's name.
    static let group = "delivery"

    let hub: DeliveryHub

    func handle(_ record: Record) async throws {
        hub.fanOut(record)
    }

    /// A batch's frames reach each connection together: one burst, one socket write.
    func batchHandled() async {
        hub.releaseWakes()
    }

    static func runner(
        storage: any LogStorage, hub: DeliveryHub, status: ConsumerStatus, control: ConsumerControl,
        logger: Logger
    ) -> ConsumerRunner {
        var configuration = ConsumerGroupConfiguration(name: group, stream: .chatEvents)
        // Delivery is in memory and a restart has no subscribers to replay to: its checkpoint
        // needs no write per batch (or per pause) competing with appends for the writer.
        configuration.checkpointInterval = .seconds(1)
        configuration.idleCheckpointDelay = .milliseconds(100)
        return ConsumerRunner(
            storage: storage, group: configuration,
            handler: DeliveryConsumer(hub: hub), status: status, control: control, logger: logger)
    }
}
