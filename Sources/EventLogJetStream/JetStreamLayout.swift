import EventLog
import EventLogLMDB

/// Where a log lives on JetStream: one stream per shard, holding the shard's proposals in the
/// order every node folds them.
///
///     stream   <prefix>_<stream>_<shard>    chatlog_chat_events_0
///     subject  <prefix>.<stream>.<shard>    chatlog.chat_events.0
///
/// The shared groups' dead letters are kept in a key-value bucket, so that any node lists
/// and redrives what another one set aside:
///
///     bucket   <prefix>_dead_letters                chatlog_dead_letters
///     key      <group>.<stream>.<shard>.<seq>       agent.chat_events.0.42
public struct JetStreamLayout: Sendable {
    public var prefix: String

    public init(prefix: String) {
        self.prefix = prefix
    }

    public func streamName(_ shard: ShardKey) -> String {
        "\(prefix)_\(shard.stream.rawValue)_\(shard.shard)"
    }

    public func subject(_ shard: ShardKey) -> String {
        "\(prefix).\(shard.stream.rawValue).\(shard.shard)"
    }

    /// The dead letters' bucket, when the nodes share a group.
    public func deadLetterBucket(_ settings: JetStreamSettings) -> String? {
        settings.sharedGroups.isEmpty ? nil : "\(prefix)_dead_letters"
    }

    public func deadLetterKey(group: String, position: Position) -> String {
        "\(group).\(position.stream.rawValue).\(position.shard).\(position.seq)"
    }
}

/// A proposal as a JetStream message: the record's own envelope and checksum (seq and
/// channelSeq 0: the fold numbers it), and headers for what a record does not keep.
enum ProposalMessage {
    /// The `channelSeq` the channel must still be at (a conditional append).
    static let expectedChannelHead = "Chatlog-Expected-Channel-Head"
    /// How long the idempotency key counts, in microseconds.
    static let idempotencyTTL = "Chatlog-Idempotency-Ttl"
    /// JetStream stores one message per id within the duplicate window.
    static let messageID = "Nats-Msg-Id"

    static func encode(_ proposal: Proposal, shard: ShardID) -> (data: [UInt8], headers: [(String, String)]) {
        let request = proposal.request
        let record = Record(
            id: proposal.identity.id, stream: request.stream, shard: shard, seq: 0, type: request.type,
            partitionKey: request.partitionKey, channelID: request.channelID,
            channelSeq: request.channelID == nil ? nil : 0, actor: request.actor,
            createdAt: proposal.identity.time, idempotencyKey: request.idempotencyKey,
            causationID: request.causationID, payload: request.payload)
        var headers: [(String, String)] = []
        if let expected = request.expectedChannelHead { headers.append((expectedChannelHead, "\(expected)")) }
        if let key = request.idempotencyKey {
            headers.append((messageID, key))
            if let ttl = request.idempotencyTTL {
                let micros =
                    ttl.components.seconds * 1_000_000 + ttl.components.attoseconds / 1_000_000_000_000
                headers.append((idempotencyTTL, "\(micros)"))
            }
        }
        return (RecordCodec.encode(record), headers)
    }

    /// The proposal a message carries; throws for bytes that are not one.
    static func decode(data: [UInt8], headers: [String: String]) throws -> Proposal {
        let record = try data.withUnsafeBytes { bytes in try RecordCodec.decode(bytes) }
        guard record.seq == 0 else { throw NotAProposal(seq: record.seq) }
        let request = AppendRequest(
            stream: record.stream, partitionKey: record.partitionKey, type: record.type, actor: record.actor,
            channelID: record.channelID, idempotencyKey: record.idempotencyKey,
            idempotencyTTL: headers[idempotencyTTL].flatMap(Int64.init).map { .microseconds($0) },
            causationID: record.causationID, payload: record.payload,
            expectedChannelHead: headers[expectedChannelHead].flatMap(UInt64.init))
        return Proposal(request: request, identity: RecordIdentity(id: record.id, time: record.createdAt))
    }
}

/// A record with a sequence number where a proposal has none: a stored record, not a proposal.
struct NotAProposal: Error, CustomStringConvertible {
    var seq: SequenceNumber
    var description: String { "a numbered record (seq \(seq)), not a proposal" }
}
