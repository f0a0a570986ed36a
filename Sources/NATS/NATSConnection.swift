import CNATS

#if canImport(Glibc)
    import Glibc
#endif

/// A connection to a NATS cluster with its JetStream context. It is the only type that holds
/// the C client's pointers. Every call blocks the calling thread until the servers answer (or
/// the timeout passes): call it from a thread of its own, never from Swift's cooperative pool.
public final class NATSConnection: @unchecked Sendable {
    // Safe: the C client's connection and JetStream context are thread-safe, and both
    // pointers are immutable until `deinit`.
    private let connection: OpaquePointer
    let jetStream: OpaquePointer
    /// How long a JetStream API call or publish waits for its answer.
    public let timeout: Duration

    /// Connects to the first reachable server of `servers` (`nats://host:port` each) and
    /// reconnects to any of them for as long as the connection lives.
    public init(servers: [String], name: String, timeout: Duration = .seconds(5)) throws(NATSError) {
        self.timeout = timeout
        var options: OpaquePointer?
        try check(natsOptions_Create(&options))
        defer { natsOptions_Destroy(options) }
        let copies = servers.map { strdup($0) }
        defer { copies.forEach { free($0) } }
        var pointers = copies.map { UnsafePointer($0) }
        try check(natsOptions_SetServers(options, &pointers, Int32(pointers.count)))
        try check(natsOptions_SetName(options, name))
        try check(natsOptions_SetTimeout(options, timeout.milliseconds))
        try check(natsOptions_SetMaxReconnect(options, -1))
        try check(natsOptions_SetReconnectWait(options, 250))
        var connection: OpaquePointer?
        try check(natsConnection_Connect(&connection, options))
        var jsOptions = jsOptions()
        jsOptions_Init(&jsOptions)
        jsOptions.Wait = timeout.milliseconds
        var context: OpaquePointer?
        let status = natsConnection_JetStream(&context, connection, &jsOptions)
        guard status == NATS_OK, let connection, let context else {
            natsConnection_Destroy(connection)
            throw NATSError(status: status)
        }
        self.connection = connection
        self.jetStream = context
    }

    deinit {
        jsCtx_Destroy(jetStream)
        natsConnection_Destroy(connection)
    }

    /// Closes the connection: blocked calls return with an error, later calls fail.
    public func close() {
        natsConnection_Close(connection)
    }

    // MARK: Streams

    /// The stream's state, or nil when it does not exist.
    public func streamState(_ name: String) throws(NATSError) -> StreamState? {
        var info: UnsafeMutablePointer<jsStreamInfo>?
        var code = jsErrCode(rawValue: 0)
        let status = js_GetStreamInfo(&info, jetStream, name, nil, &code)
        if status == NATS_NOT_FOUND || code == JSStreamNotFoundErr { return nil }
        try check(status, code)
        defer { jsStreamInfo_Destroy(info) }
        return info.map { Self.state($0.pointee) }
    }

    /// Creates the stream, or brings an existing one to `spec`; returns its state.
    @discardableResult
    public func ensureStream(_ spec: StreamSpec) throws -> StreamState {
        let copies = spec.subjects.map { strdup($0) }
        defer { copies.forEach { free($0) } }
        var subjects = copies.map { UnsafePointer($0) }
        return try spec.name.withCString { name in
            var config = jsStreamConfig()
            jsStreamConfig_Init(&config)
            config.Name = name
            config.Storage = js_FileStorage
            config.Replicas = Int64(spec.replicas)
            config.Duplicates = spec.duplicateWindow.nanoseconds
            config.MaxAge = spec.maxAge?.nanoseconds ?? 0
            config.MaxBytes = spec.maxBytes.map(Int64.init) ?? -1
            config.AllowDirect = true
            return try subjects.withUnsafeMutableBufferPointer { buffer in
                config.Subjects = buffer.baseAddress
                config.SubjectsLen = Int32(buffer.count)
                var info: UnsafeMutablePointer<jsStreamInfo>?
                var code = jsErrCode(rawValue: 0)
                var status = js_AddStream(&info, jetStream, &config, nil, &code)
                if status != NATS_OK, code == JSStreamNameExistErr {
                    code = jsErrCode(rawValue: 0)
                    status = js_UpdateStream(&info, jetStream, &config, nil, &code)
                }
                try check(status, code)
                defer { jsStreamInfo_Destroy(info) }
                guard let info else { throw NATSError(status: NATS_ERR) }
                return Self.state(info.pointee)
            }
        }
    }

    /// Removes a stream and everything it holds; false when there was none.
    @discardableResult
    public func deleteStream(_ name: String) throws(NATSError) -> Bool {
        var code = jsErrCode(rawValue: 0)
        let status = js_DeleteStream(jetStream, name, nil, &code)
        if status == NATS_NOT_FOUND || code == JSStreamNotFoundErr { return false }
        try check(status, code)
        return true
    }

    private static func state(_ info: jsStreamInfo) -> StreamState {
        let config = info.Config!.pointee
        let subjects = (0..<Int(config.SubjectsLen)).compactMap { index in
            config.Subjects[index].map { String(cString: $0) }
        }
        let spec = StreamSpec(
            name: String(cString: config.Name), subjects: subjects, replicas: Int(config.Replicas),
            duplicateWindow: .nanoseconds(config.Duplicates),
            maxAge: config.MaxAge > 0 ? .nanoseconds(config.MaxAge) : nil,
            maxBytes: config.MaxBytes > 0 ? Int(config.MaxBytes) : nil)
        return StreamState(
            messages: info.State.Msgs, bytes: info.State.Bytes, firstSequence: info.State.FirstSeq,
            lastSequence: info.State.LastSeq, spec: spec,
            leader: info.Cluster?.pointee.Leader.map { String(cString: $0) })
    }

    // MARK: Messages

    /// A message for `subject`; the caller destroys it.
    private func message(subject: String, data: [UInt8], headers: [(String, String)]) throws(NATSError)
        -> OpaquePointer?
    {
        var message: OpaquePointer?
        let status = data.withUnsafeBytes { bytes in
            natsMsg_Create(
                &message, subject, nil, bytes.baseAddress?.assumingMemoryBound(to: CChar.self),
                Int32(bytes.count))
        }
        try check(status)
        for (key, value) in headers {
            let status = natsMsgHeader_Set(message, key, value)
            if status != NATS_OK {
                natsMsg_Destroy(message)
                throw NATSError(status: status)
            }
        }
        return message
    }

    /// Sends without waiting for any answer: whether a stream stored it shows only in the
    /// stream. Returns once the client has taken it (it buffers while reconnecting).
    public func send(subject: String, data: [UInt8], headers: [(String, String)] = []) throws(NATSError) {
        let message = try message(subject: subject, data: data, headers: headers)
        defer { natsMsg_Destroy(message) }
        try check(natsConnection_PublishMsg(connection, message))
    }

    /// Publishes and waits for the stream's acknowledgement. `headers` carry JetStream's
    /// conditions (`Nats-Expected-Last-Subject-Sequence`) and deduplication id (`Nats-Msg-Id`).
    public func publish(subject: String, data: [UInt8], headers: [(String, String)] = []) throws -> PublishAck
    {
        let message = try message(subject: subject, data: data, headers: headers)
        defer { natsMsg_Destroy(message) }
        var options = jsPubOptions()
        jsPubOptions_Init(&options)
        options.MaxWait = timeout.milliseconds
        var ack: UnsafeMutablePointer<jsPubAck>?
        var code = jsErrCode(rawValue: 0)
        try check(js_PublishMsg(&ack, jetStream, message, &options, &code), code)
        defer { jsPubAck_Destroy(ack) }
        guard let ack else { throw NATSError(status: NATS_ERR) }
        return PublishAck(sequence: ack.pointee.Sequence, isDuplicate: ack.pointee.Duplicate)
    }

    /// Delivers the stream's messages on `subjects` (a filter such as `a.b.>`) in order from
    /// `startSequence`, following new ones as they are stored: an ordered consumer, which the
    /// client recreates after any gap.
    public func follow(stream: String, subjects: String, from startSequence: UInt64) throws(NATSError)
        -> StreamFollower
    {
        try StreamFollower(
            context: jetStream, stream: stream, subjects: subjects, startSequence: startSequence, owner: self)
    }
}

extension Duration {
    /// Whole milliseconds, as the C client counts timeouts.
    var milliseconds: Int64 {
        components.seconds * 1000 + components.attoseconds / 1_000_000_000_000_000
    }
}
