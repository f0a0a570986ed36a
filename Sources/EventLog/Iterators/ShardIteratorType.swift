/// Where a shard iterator starts, as in DynamoDB Streams' GetShardIterator.
public enum ShardIteratorType: Sendable, Equatable {
    /// The oldest record still kept.
    case trimHorizon
    /// Just after the newest record: only records appended from now on.
    case latest
    /// The record with this sequence number.
    case atSequenceNumber(SequenceNumber)
    /// The record after this sequence number.
    case afterSequenceNumber(SequenceNumber)
    /// The first record appended at or after this time.
    case atTimestamp(Timestamp)

    /// The names used on the command line and in the API.
    public static let names = [
        "TRIM_HORIZON", "LATEST", "AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER", "AT_TIMESTAMP",
    ]
}
