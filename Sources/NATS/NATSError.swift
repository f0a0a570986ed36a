import CNATS

/// An error from the NATS client or a JetStream API reply.
public struct NATSError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The client's status (`NATS_OK` is 0).
    public let status: UInt32
    /// JetStream's error code from the server's reply (10071 "wrong last sequence"), or 0.
    public let jetStreamCode: Int
    /// The client's last error text, or the status text.
    public let text: String

    init(status: natsStatus, jetStreamCode: jsErrCode = jsErrCode(rawValue: 0)) {
        self.status = status.rawValue
        self.jetStreamCode = Int(jetStreamCode.rawValue)
        var lastStatus = NATS_OK
        if let last = nats_GetLastError(&lastStatus), lastStatus == status {
            self.text = String(cString: last)
        } else {
            self.text = String(cString: natsStatus_GetText(status))
        }
    }

    public var description: String {
        jetStreamCode == 0 ? text : "\(text) (JetStream error \(jetStreamCode))"
    }

    /// No answer came in time: the request may or may not have taken effect.
    public var isTimeout: Bool { status == NATS_TIMEOUT.rawValue }
}

/// Throws for a status other than `NATS_OK`.
@inline(__always)
func check(_ status: natsStatus, _ code: jsErrCode = jsErrCode(rawValue: 0)) throws(NATSError) {
    if status != NATS_OK { throw NATSError(status: status, jetStreamCode: code) }
}
