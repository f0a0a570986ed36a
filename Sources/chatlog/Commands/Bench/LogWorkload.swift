import EventLog

/// The records the log benchmarks append: chat messages with a fixed-size JSON payload.
struct LogWorkload: Sendable {
    let payload: [UInt8]
    let channelIDs: [String]

    init(payloadBytes: Int, channels: Int) {
        let padding = String(repeating: "x", count: max(0, payloadBytes - 11))
        payload = Array("{\"text\":\"\(padding)\"}".utf8)
        channelIDs = (0..<max(1, channels)).map { "bench-channel-\($0)" }
    }

    func request(_ index: Int) -> AppendRequest {
        .channel(channelIDs[index % channelIDs.count], type: "message.created", actor: "bench", payload: payload)
    }

    /// The bytes one such record takes in storage (envelope and payload).
    var storedRecordBytes: Int {
        80 + "chat_events".utf8.count + "message.created".utf8.count + 2 * channelIDs[0].utf8.count
            + "bench".utf8.count + payload.count
    }
}
