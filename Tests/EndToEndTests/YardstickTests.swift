import ChatlogTestSupport
import Foundation
import LMDB
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// The bare routes the benchmarks measure chatlog against: a broken yardstick would make every
/// ratio built on it wrong without any benchmark failing.
@Suite(.timeLimit(.minutes(1))) struct YardstickTests {
    @Test func theDurableEchoAnswersWithWhatItHasStoredInOrder() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let raw = directory.path + "/raw"
        let (server, base) = try await startListening(
            ["debug", "echo-server", "--port", "0", "--data-dir", raw])
        var answers: [Data] = []
        for text in ["first", "second", "third"] {
            var request = URLRequest(url: URL(string: base + "/echo-durable")!)
            request.httpMethod = "POST"
            request.httpBody = Data("{\"text\":\"\(text)\"}".utf8)
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
            let (data, response) = try await URLSession.shared.data(for: request)
            #expect((response as? HTTPURLResponse)?.statusCode == 201)
            let message = try #require(
                (try JSONSerialization.jsonObject(with: data) as? [String: Any])?["message"] as? [String: Any]
            )
            #expect(message["text"] as? String == text)
            answers.append(data)
        }
        server.kill(SIGTERM)
        _ = await server.waitForExit()
        // Each answer is in the environment, under the next key.
        let environment = try Environment(path: raw)
        defer { environment.close() }
        let stored = try environment.read { transaction in
            let database = try transaction.openDatabase("echo")
            return try (1...UInt64(3)).map { key in
                try withUnsafeBytes(of: key.bigEndian) { key in
                    try transaction.withValue(database, key: key) { $0.map { Data($0) } }
                }
            }
        }
        #expect(stored == answers.map(Optional.some))
    }
}
