import CNATS

#if canImport(Glibc)
    import Glibc
#endif

/// A message as a JetStream stream stores it.
public struct StoredMessage: Sendable {
    /// The stream sequence number.
    public var sequence: UInt64
    public var subject: String
    public var headers: [String: String]
    public var data: [UInt8]

    /// Copies a message the client handed over; `sequence` comes from its metadata.
    init(_ message: OpaquePointer, sequence: UInt64) {
        self.sequence = sequence
        subject = String(cString: natsMsg_GetSubject(message))
        let length = Int(natsMsg_GetDataLength(message))
        if length > 0, let bytes = natsMsg_GetData(message) {
            data = [UInt8](UnsafeRawBufferPointer(start: bytes, count: length))
        } else {
            data = []
        }
        headers = [:]
        var keys: UnsafeMutablePointer<UnsafePointer<CChar>?>?
        var count: Int32 = 0
        if natsMsgHeader_Keys(message, &keys, &count) == NATS_OK, let keys {
            for index in 0..<Int(count) {
                guard let key = keys[index] else { continue }
                var value: UnsafePointer<CChar>?
                if natsMsgHeader_Get(message, key, &value) == NATS_OK, let value {
                    headers[String(cString: key)] = String(cString: value)
                }
            }
            free(keys)
        }
    }
}

/// What JetStream answered to a publish.
public struct PublishAck: Sendable, Equatable {
    /// The sequence number the stream gave the message (the original's, for a duplicate).
    public var sequence: UInt64
    /// True when the message id was seen within the duplicate window: nothing was stored.
    public var isDuplicate: Bool
}
