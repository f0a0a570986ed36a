import Foundation
import LMDB
import Synchronization

/// The least a durable POST has to do beside the echo: put the answer it sends into raw LMDB
/// under the next key, in a group commit synced as LMDB syncs by default, and answer only once
/// that commit is on disk. One thread takes every waiting value into one transaction, as the
/// log's writer does, so `POST /echo-durable` is the yardstick for chatlog's message POST with
/// its sync and without its records, projections and checks.
final class DurableEchoStore: Sendable {
    private struct Waiting {
        var values: [(value: [UInt8], continuation: CheckedContinuation<UInt64, any Error>)] = []
        var asleep = false
    }

    private let environment: Environment
    private let database: Database
    private let waiting = Mutex(Waiting())
    private let wakeUp = DispatchSemaphore(value: 0)

    init(directory: String) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var options = Environment.Options()
        options.mapSize = 8 << 30
        environment = try Environment(path: directory, options: options)
        database = try environment.write { try $0.openDatabase("echo", options: .create) }
        let thread = Thread { [self] in run() }
        thread.name = "echo-durable-writer"
        thread.start()
    }

    /// Returns the value's key once the commit holding it is synced.
    func append(_ value: [UInt8]) async throws -> UInt64 {
        try await withCheckedThrowingContinuation { continuation in
            let wake = waiting.withLock { waiting in
                waiting.values.append((value, continuation))
                defer { waiting.asleep = false }
                return waiting.asleep
            }
            if wake { wakeUp.signal() }
        }
    }

    private func run() {
        var next: UInt64 = 1
        while true {
            let group = waiting.withLock { waiting in
                defer { waiting.values.removeAll(keepingCapacity: true) }
                waiting.asleep = waiting.values.isEmpty
                return waiting.values
            }
            guard !group.isEmpty else {
                wakeUp.wait()
                continue
            }
            let first = next
            do {
                try environment.write { transaction in
                    for entry in group {
                        try withUnsafeBytes(of: next.bigEndian) { key in
                            try entry.value.withUnsafeBytes {
                                try transaction.put(database, key: key, value: $0, options: .append)
                            }
                        }
                        next += 1
                    }
                }
                for (offset, entry) in group.enumerated() {
                    entry.continuation.resume(returning: first + UInt64(offset))
                }
            } catch {
                next = first
                for entry in group { entry.continuation.resume(throwing: error) }
            }
        }
    }
}
