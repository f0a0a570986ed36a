import Foundation
import Synchronization

/// REST writers for a drill. Each message has a unique text that is also its Idempotency-Key;
/// a post whose answer was lost to a kill is sent again with the same key after the restart,
/// as a careful client would, and must come back as the same message.
final class DrillWriters: Sendable {
    struct Acknowledged: Sendable {
        var key: String
        var channel: String
        var id: String
        var seq: Int
    }

    private struct State {
        var acknowledged: [Acknowledged] = []
        /// Posts sent but not answered: (writer, key, channel).
        var unanswered: [Int: (key: String, channel: String)] = [:]
        var next: [Int: Int] = [:]
        var violations: [String] = []
    }

    private let state = Mutex(State())
    let channels: [String]

    init(channels: [String]) {
        self.channels = channels
    }

    /// Writes until a request fails (the server was killed) or `stopped` says so.
    func run(writer: Int, api: BenchAPI, until stopped: @escaping @Sendable () -> Bool) async {
        while !stopped(), await post(writer: writer, api: api) {}
    }

    /// Sends the writer's unanswered post again, if it has one.
    func retryUnanswered(writer: Int, api: BenchAPI) async {
        if state.withLock({ $0.unanswered[writer] != nil }) { _ = await post(writer: writer, api: api) }
    }

    /// Sends the writer's unanswered post, or its next one; false when it got no answer.
    private func post(writer: Int, api: BenchAPI) async -> Bool {
        let (key, channel) = state.withLock { state in
            if let pending = state.unanswered[writer] { return pending }
            let index = state.next[writer, default: 0]
            state.next[writer] = index + 1
            let pending = (key: "w\(writer)-\(index)", channel: channels[(writer + index) % channels.count])
            state.unanswered[writer] = pending
            return pending
        }
        guard
            let (status, body) = try? await api.call(
                .POST, "/v1/channels/\(channel)/messages", body: "{\"text\":\"\(key)\"}",
                headers: [("Idempotency-Key", key)], timeout: .seconds(10))
        else { return false }
        guard status == 201 || status == 200, let message = body["message"] as? [String: Any],
            let id = message["id"] as? String, let seq = message["seq"] as? Int
        else {
            if status >= 500 && status != 503 {
                state.withLock { $0.violations.append("writer: POST answered \(status): \(body)") }
            }
            return false
        }
        state.withLock { state in
            state.acknowledged.append(Acknowledged(key: key, channel: channel, id: id, seq: seq))
            state.unanswered[writer] = nil
        }
        return true
    }

    var acknowledged: [Acknowledged] { state.withLock { $0.acknowledged } }
    var unansweredCount: Int { state.withLock { $0.unanswered.count } }
    var violations: [String] { state.withLock { $0.violations } }
}
