import EventLog
import Logging
import ServiceLifecycle

/// Keeps the log open while the server runs and closes it last on shutdown, after the
/// services that write to it have stopped.
struct LogService: Service {
    let storage: any LogBackend
    let readiness: Readiness

    func run() async throws {
        try? await gracefulShutdown()
        readiness.set(false)
        storage.close()
    }
}

/// Applies the streams' retention every `interval` until shutdown.
struct RetentionService: Service {
    let storage: any LogBackend
    let interval: Duration
    let logger: Logger

    func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    try await Task.sleep(for: interval)
                    _ = try await storage.enforceRetention(now: .now())
                } catch is CancellationError {
                    return
                } catch {
                    logger.error("retention failed", metadata: ["error": "\(error)"])
                }
            }
        }
    }
}
