import Foundation
import Logging
import Synchronization

/// The tests' logging. Many tests provoke refusals on purpose (storage full, bad tokens, a
/// cancelled connection), and their warning and error lines read like failures; so the test
/// process logs only at `CHATLOG_TEST_LOG` (`trace` … `critical`; `critical` unless set).
public enum TestLogging {
    private static let once: Void = {
        let named = ProcessInfo.processInfo.environment["CHATLOG_TEST_LOG"] ?? ""
        let level = Logger.Level(rawValue: named) ?? .critical
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
    }()

    /// Sets the process's log handler the first time; any later call does nothing.
    public static func bootstrap() { once }
}

/// A logger whose lines a test reads back: `lines` holds each as "message key=value …", the
/// metadata sorted by key.
public final class LogRecorder: Sendable {
    private let recorded = Mutex<[String]>([])

    public init() {}

    public var lines: [String] { recorded.withLock { $0 } }

    /// A logger at `level` that records into this recorder.
    public func logger(level: Logger.Level = .trace) -> Logger {
        var logger = Logger(label: "recorded") { _ in Handler(recorder: self) }
        logger.logLevel = level
        return logger
    }

    private struct Handler: LogHandler {
        let recorder: LogRecorder
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            let fields = metadata.merging(event.metadata ?? [:]) { $1 }
                .sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
            let line = ([event.message.description] + fields).joined(separator: " ")
            recorder.recorded.withLock { $0.append(line) }
        }
    }
}
