import ChatlogTestSupport
import Testing

@testable import EventLog
@testable import EventLogLMDB

@Suite(.timeLimit(.minutes(1))) struct StateTableTests {
    @Test func stateTablesAreDurableAndSeparateFromProjections() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        do {
            let storage = try LMDBStorage(
                directory: directory.path, configuration: .twoStreams, stateTables: ["registry"])
            defer { storage.close() }
            try await storage.updateState { store in
                try store.put("registry", key: [1], value: [10])
                try store.put("registry", key: [2], value: [20])
            }
            let removed = try await storage.updateState { try $0.delete("registry", key: [1]) }
            #expect(removed)
            // A failing update undoes only its own writes.
            await #expect(throws: Refused.self) {
                try await storage.updateState { store in
                    try store.put("registry", key: [3], value: [30])
                    throw Refused()
                }
            }
            #expect(try storage.readState { try $0.count("registry") } == 1)
            #expect(throws: EventLogError.self) { try storage.readProjections { try $0.count("registry") } }
        }
        let reopened = try LMDBStorage(
            directory: directory.path, configuration: .twoStreams, readOnly: true, stateTables: ["registry"])
        defer { reopened.close() }
        #expect(try reopened.readState { try $0.get("registry", key: [2]) } == [20])
        await #expect(throws: EventLogError.readOnly) { try await reopened.updateState { _ in } }
    }
}
