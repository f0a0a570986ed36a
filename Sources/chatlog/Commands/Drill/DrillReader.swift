import Foundation
import NIOCore
import NIOPosix
import Synchronization

/// A WebSocket reader that resumes every channel from the last seq it saw, and notes any frame
/// that is not exactly the next seq of its channel.
final class DrillReader: Sendable {
    private struct State {
        var last: [String: Int] = [:]
        var frames = 0
        var violations: [String] = []
    }

    private let state: Mutex<State>
    let channels: [String]

    init(channels: [String]) {
        self.channels = channels
        state = Mutex(State(last: Dictionary(uniqueKeysWithValues: channels.map { ($0, 0) })))
    }

    /// Connects to a server and subscribes to every channel from where this reader left off.
    func connect(port: Int, token: String) async throws -> any Channel {
        let socket = try await BenchWebSocketClient.connect(
            group: MultiThreadedEventLoopGroup.singleton, port: port, token: token
        ) { [self] payload in
            receive(Data(payload))
        }
        let since = state.withLock { $0.last }
        for channel in channels {
            BenchWebSocketClient.send(
                "{\"type\":\"subscribe\",\"channelId\":\"\(channel)\",\"sinceSeq\":\(since[channel] ?? 0)}",
                on: socket)
        }
        return socket
    }

    private func receive(_ data: Data) {
        guard let frame = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any],
            let type = frame["type"] as? String
        else {
            state.withLock { $0.violations.append("reader: a frame that is not JSON") }
            return
        }
        switch type {
        case "message", "event":
            guard let channel = frame["channelId"] as? String, let seq = frame["seq"] as? Int else { return }
            state.withLock { state in
                state.frames += 1
                let expected = (state.last[channel] ?? 0) + 1
                if seq != expected {
                    state.violations.append("reader: channel \(channel) got seq \(seq) after \(expected - 1)")
                }
                state.last[channel] = max(state.last[channel] ?? 0, seq)
            }
        case "error":
            state.withLock { $0.violations.append("reader: error frame \(frame)") }
        default:
            return
        }
    }

    var frames: Int { state.withLock { $0.frames } }
    var violations: [String] { state.withLock { $0.violations } }
    func last(_ channel: String) -> Int { state.withLock { $0.last[channel] ?? 0 } }
}
