import ChatlogTestSupport
import EventLog

@testable import Chat

/// Runs `body` with the chat domain over a real log in a temporary directory.
func withChat(_ body: (ChatService, any LogBackend) async throws -> Void) async throws {
    try await withLog(projections: [ChatProjection()]) { storage, _ in
        try await body(ChatService(log: storage), storage)
    }
}
