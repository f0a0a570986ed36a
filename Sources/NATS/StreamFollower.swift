import CNATS

/// Reads one stream in order, from a start sequence and on as messages are stored. Its calls
/// block: one thread owns a follower.
public final class StreamFollower: @unchecked Sendable {
    // Safe: one thread owns the follower; `close` may come from another, and the C client's
    // subscription calls are thread-safe.
    private let subscription: OpaquePointer
    /// Keeps the connection (and its JetStream context) alive as long as the subscription.
    private let owner: NATSConnection

    init(
        context: OpaquePointer, stream: String, subjects: String, startSequence: UInt64, owner: NATSConnection
    ) throws(NATSError) {
        self.owner = owner
        var options = jsSubOptions()
        jsSubOptions_Init(&options)
        options.Ordered = true
        options.Config.DeliverPolicy = js_DeliverByStartSequence
        options.Config.OptStartSeq = max(startSequence, 1)
        var subscription: OpaquePointer?
        var code = jsErrCode(rawValue: 0)
        let status = stream.withCString { name in
            options.Stream = name
            return js_SubscribeSync(&subscription, context, subjects, nil, &options, &code)
        }
        try check(status, code)
        guard let subscription else { throw NATSError(status: NATS_ERR) }
        self.subscription = subscription
    }

    deinit {
        natsSubscription_Destroy(subscription)
    }

    /// The next message, or nil when none arrives within `timeout`.
    public func next(timeout: Duration) throws(NATSError) -> StoredMessage? {
        var message: OpaquePointer?
        let status = natsSubscription_NextMsg(&message, subscription, timeout.milliseconds)
        if status == NATS_TIMEOUT { return nil }
        try check(status)
        guard let message else { return nil }
        defer { natsMsg_Destroy(message) }
        var meta: UnsafeMutablePointer<jsMsgMetaData>?
        try check(natsMsg_GetMetaData(&meta, message))
        defer { jsMsgMetaData_Destroy(meta) }
        guard let meta else { throw NATSError(status: NATS_ERR) }
        return StoredMessage(message, sequence: meta.pointee.Sequence.Stream)
    }

    /// Messages already received and not yet taken.
    public var pending: Int {
        var messages: Int32 = 0
        var bytes: Int32 = 0
        guard natsSubscription_GetPending(subscription, &messages, &bytes) == NATS_OK else { return 0 }
        return Int(messages)
    }

    /// Ends the subscription: a blocked `next` returns with an error.
    public func close() {
        natsSubscription_Unsubscribe(subscription)
    }
}
