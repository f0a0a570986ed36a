/// What a writer asks the log to append.
public struct AppendRequest: Sendable {
    public var stream: StreamName
    /// Chooses the shard; records with one key are totally ordered.
    public var partitionKey: String
    public var type: String
    public var actor: String
    /// Set for channel records: the record gets the channel's next `channelSeq`.
    public var channelID: String?
    /// A repeated key returns the original record and appends nothing.
    public var idempotencyKey: String?
    /// How long the key is remembered; nil keeps it as long as the stream keeps the record.
    public var idempotencyTTL: Duration?
    public var causationID: RecordID?
    /// The JSON payload.
    public var payload: [UInt8]
    /// For channel records: append only if the channel's last `channelSeq` is still this one,
    /// else fail with `channelHeadMoved` (the caller reads the state again and decides anew).
    public var expectedChannelHead: SequenceNumber?

    public init(
        stream: StreamName, partitionKey: String, type: String, actor: String, channelID: String? = nil,
        idempotencyKey: String? = nil, idempotencyTTL: Duration? = nil, causationID: RecordID? = nil,
        payload: [UInt8], expectedChannelHead: SequenceNumber? = nil
    ) {
        self.stream = stream
        self.partitionKey = partitionKey
        self.type = type
        self.actor = actor
        self.channelID = channelID
        self.idempotencyKey = idempotencyKey
        self.idempotencyTTL = idempotencyTTL
        self.causationID = causationID
        self.payload = payload
        self.expectedChannelHead = expectedChannelHead
    }

    /// A channel record: partitioned by the channel so the channel stays in one shard.
    public static func channel(
        _ channelID: String, type: String, actor: String, stream: StreamName,
        idempotencyKey: String? = nil, idempotencyTTL: Duration? = nil, causationID: RecordID? = nil,
        payload: [UInt8], expectedChannelHead: SequenceNumber? = nil
    ) -> AppendRequest {
        AppendRequest(
            stream: stream, partitionKey: channelID, type: type, actor: actor, channelID: channelID,
            idempotencyKey: idempotencyKey, idempotencyTTL: idempotencyTTL, causationID: causationID,
            payload: payload, expectedChannelHead: expectedChannelHead)
    }
}

extension AppendRequest {
    /// Throws unless the names and the payload fit the log's limits: every backend checks this
    /// before anything else.
    public func validate(maxPayloadBytes: Int) throws(EventLogError) {
        try Self.checkName(partitionKey, "partitionKey")
        try Self.checkName(type, "type")
        try Self.checkName(actor, "actor")
        if let channelID {
            try Self.checkName(channelID, "channelId")
            guard channelID == partitionKey else {
                throw .invalidArgument("a channel record's partitionKey must be its channelId")
            }
        }
        if let idempotencyKey { try Self.checkName(idempotencyKey, "idempotencyKey") }
        guard payload.count <= maxPayloadBytes else {
            throw .invalidArgument(
                "payload of \(payload.count) bytes exceeds the limit of \(maxPayloadBytes)")
        }
    }

    private static func checkName(_ value: String, _ field: String) throws(EventLogError) {
        let count = value.utf8.count
        // Names become parts of LMDB keys, which hold at most 511 bytes.
        guard count > 0, count <= 400 else { throw .invalidArgument("\(field) must have 1 to 400 bytes") }
        guard !value.utf8.contains(0) else {
            throw .invalidArgument("\(field) must not contain a NUL character")
        }
    }
}

/// The outcome of one append.
public struct AppendResult: Sendable, Equatable {
    /// The stored record: the new one, or the original for a repeated idempotency key.
    public var record: Record
    /// True when the idempotency key had been used and nothing was appended.
    public var isDuplicate: Bool

    public init(record: Record, isDuplicate: Bool) {
        self.record = record
        self.isDuplicate = isDuplicate
    }
}
