import EventLog

/// The records the log benchmarks append: chat messages with a fixed-size JSON payload, spread
/// over channels (each indexed by channel), or plain records spread over partition keys.
struct LogWorkload: Sendable {
    let payload: [UInt8]
    let channelIDs: [String]
    /// Whether records belong to channels (and so get a channelSeq and a channel index entry).
    let indexed: Bool

    init(payloadBytes: Int, channels: Int) {
        let padding = String(repeating: "x", count: max(0, payloadBytes - 11))
        payload = Array("{\"text\":\"\(padding)\"}".utf8)
        indexed = channels > 0
        channelIDs = (0..<(channels > 0 ? channels : 1000)).map { "bench-channel-\($0)" }
    }

    func request(_ index: Int) -> AppendRequest {
        let key = channelIDs[index % channelIDs.count]
        if indexed {
            return .channel(
                key, type: "message.created", actor: "bench", stream: .chatEvents, payload: payload)
        }
        return AppendRequest(
            stream: .chatEvents, partitionKey: key, type: "message.created", actor: "bench", payload: payload)
    }

    /// The bytes one such record takes in storage (envelope and payload).
    var storedRecordBytes: Int {
        80 + "chat_events".utf8.count + "message.created".utf8.count + (indexed ? 2 : 1)
            * channelIDs[0].utf8.count
            + "bench".utf8.count + payload.count
    }
}
