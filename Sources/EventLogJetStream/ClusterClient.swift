import EventLog
import NATS
import NIOPosix

/// The connection to the cluster and the threads its blocking calls run on, never the
/// cooperative pool. Its errors are the log's.
struct ClusterClient: Sendable {
    let connection: NATSConnection
    let pool: NIOThreadPool

    /// Runs a blocking client call on the pool.
    func run<R: Sendable>(_ body: @escaping @Sendable (NATSConnection) throws -> R) async throws -> R {
        let connection = connection
        do {
            return try await pool.runIfActive { try body(connection) }
        } catch let error as NATSError where error.isTimeout {
            throw EventLogError.unconfirmed("the JetStream cluster did not answer in time: \(error)")
        } catch let error as NATSError {
            throw EventLogError.storage("the JetStream cluster failed the request: \(error)")
        }
    }
}
