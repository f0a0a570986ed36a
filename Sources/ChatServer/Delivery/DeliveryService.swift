import Chat
import Consumers
import ServiceLifecycle

/// WebSocket delivery as a service: runs the `delivery` consumer group, and on shutdown closes every socket with 1001 before
/// the HTTP server stops (it is listed after the server, so it stops first).
struct DeliveryService: Service {
    let hub: DeliveryHub
    let runner: ConsumerRunner
    /// How long shutdown waits for sockets to take their close frames.
    let drainTimeout: Duration

    func run() async throws {
        try await withGracefulShutdownHandler {
            try await runner.run()
        } onGracefulShutdown: {
            hub.closeAll(.shutdown)
        }
        hub.closeAll(.shutdown)
        await hub.waitUntilDisconnected(timeout: drainTimeout)
    }
}
