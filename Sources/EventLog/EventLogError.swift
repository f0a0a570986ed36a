/// Every way a log operation can fail; each case is distinct so callers map it once.
public enum EventLogError: Error, Equatable, Sendable, CustomStringConvertible {
    /// No stream has this name.
    case unknownStream(StreamName)
    /// The stream has no shard with this number.
    case unknownShard(StreamName, ShardID)
    /// The position was removed by retention; `firstAvailable` is the oldest kept seq.
    case trimmedPosition(Position, firstAvailable: SequenceNumber)
    /// The iterator is older than the configured iterator lifetime.
    case expiredIterator(issuedAt: Timestamp)
    /// The iterator token is not one this log issued.
    case malformedIterator(String)
    /// An argument is out of range or ill-formed.
    case invalidArgument(String)
    /// The map or the disk is full; nothing was written.
    case storageFull(String)
    /// The log was opened read-only.
    case readOnly
    /// Stored bytes failed their checksum or could not be decoded.
    case corrupted(Position, String)
    /// The log was closed.
    case closed
    /// The data directory holds no log.
    case notFound(String)
    /// Another process holds the log for writing.
    case locked(String)
    /// An unexpected storage failure.
    case storage(String)
    /// A write may or may not have been stored: a replicated write got no answer in time, or a
    /// commit was written but the sync meant to make it durable failed. Repeating it with the
    /// same idempotency key stores it at most once and tells which.
    case unconfirmed(String)
    /// A conditional append found the channel's head moved on; nothing was written.
    case channelHeadMoved(channelID: String, expected: SequenceNumber, actual: SequenceNumber)

    public var description: String {
        switch self {
        case .unknownStream(let stream): "unknown stream '\(stream)'"
        case .unknownShard(let stream, let shard): "stream '\(stream)' has no shard \(shard)"
        case .trimmedPosition(let position, let first):
            "position \(position) was trimmed by retention; the oldest record kept is seq \(first)"
        case .expiredIterator(let issuedAt): "shard iterator issued at \(issuedAt) has expired; get a new one"
        case .malformedIterator(let reason): "malformed shard iterator: \(reason)"
        case .invalidArgument(let reason): reason
        case .storageFull(let reason): "storage full: \(reason)"
        case .readOnly: "the log is open read-only"
        case .corrupted(let position, let reason): "corrupt record at \(position): \(reason)"
        case .closed: "the log is closed"
        case .notFound(let path): "no chatlog data directory at \(path)"
        case .locked(let reason): reason
        case .storage(let reason): "storage error: \(reason)"
        case .unconfirmed(let reason): "write unconfirmed: \(reason)"
        case .channelHeadMoved(let channelID, let expected, let actual):
            "channel \(channelID) moved on to seq \(actual) since seq \(expected); read it again and retry"
        }
    }
}
