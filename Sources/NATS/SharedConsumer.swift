import CNATS

/// What a durable consumer is asked to be: its stream, its name, the subjects it takes, and
/// where it starts when it is made.
public struct ConsumerSpec: Sendable, Equatable {
    public var stream: String
    public var name: String
    public var subjects: String
    /// How long a message taken and neither acknowledged nor kept alive stays with its taker
    /// before the server hands it out again.
    public var ackWait: Duration
    /// The most messages out without an acknowledgement (1: nobody gets the next message
    /// until the one out is acknowledged, which keeps the stream's order across takers).
    public var maxAckPending: Int
    /// The first stream sequence it hands out (1: the start of the stream).
    public var startSequence: UInt64

    public init(
        stream: String, name: String, subjects: String, ackWait: Duration, maxAckPending: Int,
        startSequence: UInt64 = 1
    ) {
        self.stream = stream
        self.name = name
        self.subjects = subjects
        self.ackWait = ackWait
        self.maxAckPending = maxAckPending
        self.startSequence = startSequence
    }
}

/// Where a durable consumer stands.
public struct ConsumerState: Sendable, Equatable {
    /// Every stream sequence up to here is acknowledged.
    public var ackFloor: UInt64
    /// Messages handed out and not yet acknowledged.
    public var ackPending: Int
    /// Messages not yet handed out.
    public var pending: UInt64
    /// When the ack floor last moved, in nanoseconds since 1970; 0 if never.
    public var acknowledgedAt: Int64
}

/// A durable pull consumer that several processes share: each message goes to one of them. A
/// message its taker neither acknowledges nor keeps alive within the ack wait goes to another.
///
/// Its calls block: one thread at a time uses it.
public final class SharedConsumer: @unchecked Sendable {
    // Safe: used by one thread at a time; the C client's subscription calls are thread-safe.
    private let subscription: OpaquePointer
    /// Keeps the connection (and its JetStream context) alive as long as the subscription.
    private let owner: NATSConnection

    init(context: OpaquePointer, spec: ConsumerSpec, owner: NATSConnection) throws(NATSError) {
        self.owner = owner
        var options = jsSubOptions()
        jsSubOptions_Init(&options)
        var subscription: OpaquePointer?
        var code = jsErrCode(rawValue: 0)
        // Bound to a consumer made beforehand: the client never deletes what it did not make.
        let status = spec.stream.withCString { stream in
            spec.name.withCString { name in
                options.Stream = stream
                options.Consumer = name
                return js_PullSubscribe(&subscription, context, spec.subjects, name, nil, &options, &code)
            }
        }
        try check(status, code)
        guard let subscription else { throw NATSError(status: NATS_ERR) }
        self.subscription = subscription
    }

    deinit {
        natsSubscription_Destroy(subscription)
    }

    /// Takes up to `limit` messages, waiting at most `timeout` for the first; empty when none
    /// came.
    public func fetch(limit: Int, timeout: Duration) throws(NATSError) -> [PulledMessage] {
        var list = natsMsgList()
        var code = jsErrCode(rawValue: 0)
        let status = natsSubscription_Fetch(&list, subscription, Int32(limit), timeout.milliseconds, &code)
        if status == NATS_TIMEOUT { return [] }
        try check(status, code)
        defer { natsMsgList_Destroy(&list) }
        var messages: [PulledMessage] = []
        for index in 0..<Int(list.Count) {
            guard let message = list.Msgs[index] else { continue }
            // Taken out of the list: the list's destruction skips it, the PulledMessage owns it.
            list.Msgs[index] = nil
            messages.append(try PulledMessage(message))
        }
        return messages
    }
}

/// A message a shared consumer handed to this process, until it is acknowledged or given back.
public final class PulledMessage: @unchecked Sendable {
    // Safe: immutable; the C client's ack calls are thread-safe.
    private let message: OpaquePointer
    public let stored: StoredMessage
    /// How many times the consumer has handed this message out, this time included.
    public let deliveries: UInt64

    init(_ message: OpaquePointer) throws(NATSError) {
        var meta: UnsafeMutablePointer<jsMsgMetaData>?
        let status = natsMsg_GetMetaData(&meta, message)
        guard status == NATS_OK, let meta else {
            natsMsg_Destroy(message)
            throw NATSError(status: status)
        }
        defer { jsMsgMetaData_Destroy(meta) }
        self.message = message
        self.stored = StoredMessage(message, sequence: meta.pointee.Sequence.Stream)
        self.deliveries = meta.pointee.NumDelivered
    }

    deinit {
        natsMsg_Destroy(message)
    }

    /// Acknowledges this message and waits for the server's answer.
    public func acknowledge() throws(NATSError) {
        var code = jsErrCode(rawValue: 0)
        try check(natsMsg_AckSync(message, nil, &code), code)
    }

    /// Gives the message back at once, for whichever taker asks next.
    public func giveBack() throws(NATSError) {
        try check(natsMsg_Nak(message, nil))
    }

    /// Restarts the ack wait: the work on it goes on.
    public func keepAlive() throws(NATSError) {
        try check(natsMsg_InProgress(message, nil))
    }
}

extension NATSConnection {
    /// Makes the durable consumer unless it exists (then it stays as it is); returns its state.
    @discardableResult
    public func ensureConsumer(_ spec: ConsumerSpec) throws(NATSError) -> ConsumerState {
        if let state = try consumerState(stream: spec.stream, name: spec.name) { return state }
        var config = jsConsumerConfig()
        jsConsumerConfig_Init(&config)
        var info: UnsafeMutablePointer<jsConsumerInfo>?
        var code = jsErrCode(rawValue: 0)
        let status = spec.name.withCString { name in
            spec.subjects.withCString { subjects in
                config.Durable = name
                config.FilterSubject = subjects
                config.AckPolicy = js_AckExplicit
                config.AckWait = spec.ackWait.nanoseconds
                config.MaxAckPending = Int64(spec.maxAckPending)
                config.MaxDeliver = -1
                config.DeliverPolicy = js_DeliverByStartSequence
                config.OptStartSeq = max(spec.startSequence, 1)
                return js_AddConsumer(&info, jetStream, spec.stream, &config, nil, &code)
            }
        }
        try check(status, code)
        defer { jsConsumerInfo_Destroy(info) }
        guard let info else { throw NATSError(status: NATS_ERR) }
        return Self.state(info.pointee)
    }

    /// The durable consumer's state, or nil when it does not exist.
    public func consumerState(stream: String, name: String) throws(NATSError) -> ConsumerState? {
        var info: UnsafeMutablePointer<jsConsumerInfo>?
        var code = jsErrCode(rawValue: 0)
        let status = js_GetConsumerInfo(&info, jetStream, stream, name, nil, &code)
        if status == NATS_NOT_FOUND || code == JSConsumerNotFoundErr || code == JSStreamNotFoundErr {
            return nil
        }
        try check(status, code)
        defer { jsConsumerInfo_Destroy(info) }
        return info.map { Self.state($0.pointee) }
    }

    /// Removes a durable consumer; false when there was none.
    @discardableResult
    public func deleteConsumer(stream: String, name: String) throws(NATSError) -> Bool {
        var code = jsErrCode(rawValue: 0)
        let status = js_DeleteConsumer(jetStream, stream, name, nil, &code)
        if status == NATS_NOT_FOUND || code == JSConsumerNotFoundErr || code == JSStreamNotFoundErr {
            return false
        }
        try check(status, code)
        return true
    }

    /// Takes messages from a durable consumer made with `ensureConsumer`.
    public func share(_ spec: ConsumerSpec) throws(NATSError) -> SharedConsumer {
        try SharedConsumer(context: jetStream, spec: spec, owner: self)
    }

    private static func state(_ info: jsConsumerInfo) -> ConsumerState {
        ConsumerState(
            ackFloor: info.AckFloor.Stream, ackPending: Int(info.NumAckPending), pending: info.NumPending,
            acknowledgedAt: info.AckFloor.Last)
    }
}
