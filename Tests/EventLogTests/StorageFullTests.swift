import ChatlogTestSupport
import Testing

@testable import EventLog
@testable import EventLogLMDB

@Suite(.timeLimit(.minutes(1))) struct StorageFullTests {
    @Test func theMapGrowsByItselfWhenFull() async throws {
        var configuration = LogConfiguration.twoStreams
        configuration.initialMapSize = 1 << 20
        try await withLog(configuration: configuration) { storage, _ in
            for _ in 0..<40 {
                _ = try await storage.append((0..<100).map { _ in event("k", bytes: 1000) })
            }
            #expect(try storage.statistics().mapSize > 4 << 20)
            #expect(try storage.verify().isSound)
        }
    }

    @Test func aFullMapRefusesWritesCleanlyAndKeepsTheLogReadable() async throws {
        var configuration = LogConfiguration.twoStreams
        configuration.initialMapSize = 1 << 20
        configuration.maxMapSize = 2 << 20
        try await withLog(configuration: configuration) { storage, _ in
            var acknowledged: [Record] = []
            var refusal: EventLogError?
            while refusal == nil {
                do {
                    acknowledged.append(
                        try await storage.append(message("c1", String(repeating: "y", count: 2000))).record)
                } catch let error as EventLogError {
                    refusal = error
                }
            }
            guard case .storageFull = refusal else {
                Issue.record("expected storageFull, got \(String(describing: refusal))")
                return
            }
            // Reads keep working, and everything acknowledged is intact.
            let stored = try await storage.channelRecords(
                stream: .chatEvents, channelID: "c1", after: 0, limit: 10_000)
            #expect(stored == acknowledged)
            #expect(try storage.verify().isSound)
            // Trying again keeps refusing, and still corrupts nothing.
            await #expect(throws: EventLogError.self) {
                _ = try await storage.append(message("c1", String(repeating: "y", count: 2000)))
            }
            #expect(try storage.verify().isSound)
            #expect(
                try await storage.channelHead(stream: .chatEvents, channelID: "c1")
                    == SequenceNumber(acknowledged.count))
        }
    }
}

@Suite(.timeLimit(.minutes(1))) struct WriterLockTests {
    @Test func aSecondWriterIsRefusedButReadersAreWelcome() async throws {
        try await withLog { storage, directory in
            _ = try await storage.append(event("k"))
            #expect {
                _ = try LMDBStorage(directory: directory.path, configuration: .twoStreams)
            } throws: { error in
                guard case .locked(let message) = error as? EventLogError else { return false }
                return message.contains("another process has this log open for writing")
            }
        }
    }

    @Test func theLockIsReleasedOnClose() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let first = try LMDBStorage(directory: directory.path, configuration: .twoStreams)
        #expect(throws: EventLogError.self, "a second writer while the first is open") {
            _ = try LMDBStorage(directory: directory.path, configuration: .twoStreams)
        }
        first.close()
        let again = try LMDBStorage(directory: directory.path, configuration: .twoStreams)
        defer { again.close() }
        #expect(try await again.append(event("after")).record.seq == 1)
    }
}
