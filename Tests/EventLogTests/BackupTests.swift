import ChatlogTestSupport
import Foundation
import Synchronization
import Testing

@testable import EventLog
@testable import EventLogLMDB

/// What the load in a backup test has done, shared across its tasks.
final class LoadState: Sendable {
    let acknowledged = Mutex<[Position]>([])
    let stop = Atomic<Bool>(false)
}

@Suite(.timeLimit(.minutes(1))) struct BackupTests {
    @Test func aBackupTakenUnderLoadIsSoundAndHoldsEverythingAcknowledgedBeforeIt() async throws {
        try await withLog { storage, _ in
            let state = LoadState()
            let load = Task {
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for writer in 0..<8 {
                        group.addTask {
                            var index = 0
                            while !state.stop.load(ordering: .relaxed) {
                                let result = try await storage.append(message("c\(writer % 3)", "m\(index)"))
                                state.acknowledged.withLock { $0.append(result.record.position) }
                                index += 1
                            }
                        }
                    }
                    try await group.waitForAll()
                }
            }
            // Let the load get going; the backup then runs while it continues.
            while state.acknowledged.withLock({ $0.count }) < 500 { await Task.yield() }
            let before = state.acknowledged.withLock { $0 }
            let backup = try TemporaryDirectory()
            defer { backup.remove() }
            try storage.backup(to: backup.path)
            let during = state.acknowledged.withLock { $0.count }
            state.stop.store(true, ordering: .relaxed)
            try await load.value
            #expect(
                state.acknowledged.withLock { $0.count } > during, "the load kept appending after the backup")

            let copy = try LMDBStorage(directory: backup.path, configuration: .twoStreams, readOnly: true)
            defer { copy.close() }
            #expect(try copy.verify().isSound)
            for position in before {
                #expect(
                    try copy.record(at: position) != nil, "\(position) was acknowledged before the backup")
            }
            // A backup refuses to overwrite.
            #expect(throws: EventLogError.self) { try storage.backup(to: backup.path) }
        }
    }
}
