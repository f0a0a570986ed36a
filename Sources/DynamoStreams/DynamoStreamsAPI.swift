import Chat
import EventLog
import Foundation
import Inbox
import JSONCoding

/// The log read as DynamoDB Streams (JSON 1.0, `DynamoDBStreams_20120810.<Operation>`): each
/// log stream is a table with one stream, each log shard a stream shard, and each record that
/// changes an item a stream record with the item's keys and images (`NEW_AND_OLD_IMAGES`).
///
/// Sequence numbers are the log's, plus 10^20, so they are decimal, 21 digits long and
/// increasing within a shard. Shard iterators are the log's own (they expire after 15 minutes).
public struct DynamoStreamsAPI: Sendable {
    public let log: EventLog

    /// The state table that keeps each stream's label (its creation time in the ARN).
    public static let tables = ["ddbstreams.labels"]

    /// The account id in every ARN.
    static let account = "000000000000"
    static let sequenceBase = "1"
    static let maxResponseBytes = 1_000_000

    public init(log: EventLog) {
        self.log = log
    }

    /// Answers one operation; `region` is the one the request was signed for.
    public func handle(target: String, body: [UInt8], region: String) async throws(DynamoStreamsError)
        -> [UInt8]
    {
        let prefix = "DynamoDBStreams_20120810."
        guard target.hasPrefix(prefix) else { throw .unknownOperation(target) }
        let input: [String: JSONValue]
        do {
            guard case .object(let members) = try JSONParser.parse(body.isEmpty ? Array("{}".utf8) : body)
            else {
                throw DynamoStreamsError.serialization("the request body must be a JSON object")
            }
            input = members
        } catch let error as DynamoStreamsError {
            throw error
        } catch {
            throw .serialization("the request body is not JSON: \(error)")
        }
        let request = Input(members: input)
        do {
            switch target.dropFirst(prefix.count) {
            case "ListStreams": return try await listStreams(request, region: region).bytes
            case "DescribeStream": return try await describeStream(request, region: region).bytes
            case "GetShardIterator": return try await getShardIterator(request).bytes
            case "GetRecords": return try await getRecords(request, region: region)
            default: throw DynamoStreamsError.unknownOperation(target)
            }
        } catch let error as DynamoStreamsError {
            throw error
        } catch let error as EventLogError {
            throw mapped(error)
        } catch {
            throw .internalError("\(error)")
        }
    }

    func mapped(_ error: EventLogError) -> DynamoStreamsError {
        let seconds = log.iteratorLifetime.components.seconds
        let lifetime = seconds % 60 == 0 ? "\(seconds / 60) minutes" : "\(seconds) seconds"
        return switch error {
        case .trimmedPosition(let position, let first):
            .trimmed(
                "The operation attempted to read past the oldest stream record in a shard: \(SequenceNumbers.format(position.seq)) "
                    + "is before the trim horizon \(SequenceNumbers.format(first)).")
        case .expiredIterator:
            .expired("Iterator expired. The iterator was created more than \(lifetime) ago.")
        case .malformedIterator(let reason): .validation("Invalid ShardIterator: \(reason)")
        case .invalidArgument(let reason): .validation(reason)
        case .unknownStream, .unknownShard: .notFound(error.description)
        default: .internalError(error.description)
        }
    }

    // MARK: - Operations

    func listStreams(_ input: Input, region: String) async throws -> JSONValue {
        let limit = try input.limit(range: 1...100, default: 100)
        let table = try input.optionalString("TableName")
        var streams = try await streamArns(region: region)
        if let table { streams = streams.filter { $0.table == table } }
        if let start = try input.optionalString("ExclusiveStartStreamArn") {
            let after = try StreamARN(start)
            streams = streams.filter { $0.table > after.table }
        }
        let page = Array(streams.prefix(limit))
        var output: [String: JSONValue] = [
            "Streams": .array(
                page.map {
                    .object([
                        "StreamArn": .string($0.description), "TableName": .string($0.table),
                        "StreamLabel": .string($0.label),
                    ])
                })
        ]
        if streams.count > limit, let last = page.last {
            output["LastEvaluatedStreamArn"] = .string(last.description)
        }
        return .object(output)
    }

    func describeStream(_ input: Input, region: String) async throws -> JSONValue {
        let arn = try await resolve(try input.string("StreamArn"))
        let limit = try input.limit(range: 1...100, default: 100)
        let descriptor = try log.storage.descriptor(StreamName(arn.table))
        var shards = descriptor.shards
        if let start = try input.optionalString("ExclusiveStartShardId") {
            guard let after = ShardIDs.parse(start) else {
                throw DynamoStreamsError.validation("Invalid ShardId: \(start)")
            }
            shards = shards.filter { $0.shard > after }
        }
        let page = Array(shards.prefix(limit))
        var described: [JSONValue] = []
        for shard in page {
            let info = try await log.storage.shardInfo(shard)
            described.append(
                .object([
                    "ShardId": .string(ShardIDs.format(shard.shard)),
                    "SequenceNumberRange": .object([
                        "StartingSequenceNumber": .string(SequenceNumbers.format(max(info.firstSeq, 1)))
                    ]),
                ]))
        }
        var description: [String: JSONValue] = [
            "StreamArn": .string(arn.description), "StreamLabel": .string(arn.label),
            "StreamStatus": .string("ENABLED"),
            "StreamViewType": .string("NEW_AND_OLD_IMAGES"), "TableName": .string(arn.table),
            "CreationRequestDateTime": .number(Self.labelDate(arn.label)),
            "KeySchema": .array(
                Self.keySchema(arn.table).map { name, type in
                    .object(["AttributeName": .string(name), "KeyType": .string(type)])
                }),
            "Shards": .array(described),
        ]
        if shards.count > limit, let last = page.last {
            description["LastEvaluatedShardId"] = .string(ShardIDs.format(last.shard))
        }
        return .object(["StreamDescription": .object(description)])
    }

    func getShardIterator(_ input: Input) async throws -> JSONValue {
        let arn = try await resolve(try input.string("StreamArn"))
        let shardText = try input.string("ShardId")
        let descriptor = try log.storage.descriptor(StreamName(arn.table))
        guard let number = ShardIDs.parse(shardText), number < descriptor.shardCount else {
            throw DynamoStreamsError.notFound("Shard: \(shardText) in Stream: \(arn)")
        }
        let shard = ShardKey(stream: descriptor.name, shard: number)
        let typeName = try input.string("ShardIteratorType")
        let sequence = try input.optionalString("SequenceNumber")
        func seq() throws -> SequenceNumber {
            guard let sequence else {
                throw DynamoStreamsError.validation(
                    "SequenceNumber is required for ShardIteratorType \(typeName)")
            }
            guard let seq = SequenceNumbers.parse(sequence) else {
                throw DynamoStreamsError.validation("Invalid SequenceNumber: \(sequence)")
            }
            return seq
        }
        let type: ShardIteratorType
        switch typeName {
        case "TRIM_HORIZON": type = .trimHorizon
        case "LATEST": type = .latest
        case "AT_SEQUENCE_NUMBER": type = .atSequenceNumber(try seq())
        case "AFTER_SEQUENCE_NUMBER": type = .afterSequenceNumber(try seq())
        default:
            throw DynamoStreamsError.validation(
                "1 validation error detected: Value '\(typeName)' at 'shardIteratorType' failed to satisfy constraint: "
                    + "Member must satisfy enum value set: [TRIM_HORIZON, LATEST, AT_SEQUENCE_NUMBER, AFTER_SEQUENCE_NUMBER]"
            )
        }
        if sequence != nil, typeName == "TRIM_HORIZON" || typeName == "LATEST" {
            throw DynamoStreamsError.validation(
                "SequenceNumber is only allowed with AT_SEQUENCE_NUMBER and AFTER_SEQUENCE_NUMBER")
        }
        return .object(["ShardIterator": .string(try await log.shardIterator(shard, type: type).token)])
    }

    func getRecords(_ input: Input, region: String) async throws -> [UInt8] {
        let limit = try input.limit(
            range: 1...EventLog.maxRecordsPerCall, default: EventLog.maxRecordsPerCall)
        let iterator = try ShardIterator(token: try input.string("ShardIterator"))
        let page = try await log.getRecords(iterator, limit: limit)
        var chat = ChatItemChanges(storage: log.storage)
        var inbox = InboxItemChanges(storage: log.storage)
        var json = JSONText(capacity: 1 << 16)
        json.raw(#"{"Records":["#)
        var count = 0
        var next = page.nextIterator
        for record in page.records {
            let change =
                record.stream == .chatEvents
                ? try await chat.change(for: record) : try await inbox.change(for: record)
            guard let change else { continue }
            let item = Self.streamRecord(record, change, region: region)
            if json.bytes.count + item.count > Self.maxResponseBytes, count > 0 {
                next = ShardIterator(
                    shard: iterator.shard, nextSeq: record.seq, issuedAt: page.nextIterator.issuedAt)
                break
            }
            if count > 0 { json.raw(",") }
            json.raw(bytes: item)
            count += 1
        }
        json.raw(#"],"NextShardIterator":"#)
        json.string(next.token)
        json.raw("}")
        return json.bytes
    }

    // MARK: - Records

    /// One stream record's JSON.
    static func streamRecord(_ record: Record, _ change: ItemChange, region: String) -> [UInt8] {
        let keys = AttributeValue.item(change.keys)
        let new = change.newImage.map(AttributeValue.item)
        let old = change.oldImage.map(AttributeValue.item)
        var json = JSONText(capacity: 256 + keys.count + (new?.count ?? 0) + (old?.count ?? 0))
        json.object { object in
            object.field("eventID", record.id.description)
            object.field("eventName", change.kind.rawValue)
            object.field("eventVersion", "1.1")
            object.field("eventSource", "aws:dynamodb")
            object.field("awsRegion", region)
            object.field(
                "dynamodb",
                object: { dynamodb in
                    dynamodb.field(
                        "ApproximateCreationDateTime",
                        JSONValue.number(Double(record.createdAt.microseconds / 1000) / 1000))
                    dynamodb.field("Keys", RawJSON(bytes: keys))
                    if let new { dynamodb.field("NewImage", RawJSON(bytes: new)) }
                    if let old { dynamodb.field("OldImage", RawJSON(bytes: old)) }
                    dynamodb.field("SequenceNumber", SequenceNumbers.format(record.seq))
                    dynamodb.field("SizeBytes", UInt64(keys.count + (new?.count ?? 0) + (old?.count ?? 0)))
                    dynamodb.field("StreamViewType", "NEW_AND_OLD_IMAGES")
                })
        }
        return json.bytes
    }

    static func keySchema(_ table: String) -> [(String, String)] {
        table == StreamName.chatEvents.rawValue ? [("pk", "HASH"), ("sk", "RANGE")] : [("eventId", "HASH")]
    }

    // MARK: - Streams and their labels

    func streamArns(region: String) async throws -> [StreamARN] {
        var arns: [StreamARN] = []
        for stream in log.storage.streams.sorted(by: { $0.name.rawValue < $1.name.rawValue }) {
            arns.append(
                StreamARN(region: region, table: stream.name.rawValue, label: try await label(stream.name)))
        }
        return arns
    }

    /// The stream an ARN names, checked against the stream's label.
    func resolve(_ text: String) async throws -> StreamARN {
        let arn = try StreamARN(text)
        guard log.storage.streams.contains(where: { $0.name.rawValue == arn.table }),
            try await label(StreamName(arn.table)) == arn.label
        else { throw DynamoStreamsError.notFound("Stream: \(text) not found") }
        return arn
    }

    /// The stream's label: when it was first read as a DynamoDB stream, or when its first
    /// record was appended if the log still holds it. Kept, so ARNs stay the same.
    func label(_ stream: StreamName) async throws -> String {
        let key = Array(stream.rawValue.utf8)
        let table = Self.tables[0]
        if let stored = try log.storage.readState({ try $0.get(table, key: key) }) {
            return String(decoding: stored, as: UTF8.self)
        }
        let first = try await log.storage.record(at: Position(stream: stream, shard: 0, seq: 1))
        let label = Self.labelText((first?.createdAt ?? log.clock.now()))
        return try await log.storage.updateState { store in
            if let stored = try store.get(table, key: key) { return String(decoding: stored, as: UTF8.self) }
            try store.put(table, key: key, value: Array(label.utf8))
            return label
        }
    }

    /// `2026-12-05T22:43:18.123`, as DynamoDB writes stream labels.
    static func labelText(_ time: Timestamp) -> String {
        String(time.rfc3339.prefix(23))
    }

    static func labelDate(_ label: String) -> Double {
        guard let time = Timestamp(rfc3339: label + "Z") else { return 0 }
        return Double(time.microseconds / 1000) / 1000
    }
}

/// JSON text written as it is.
struct RawJSON: JSONWritable {
    var bytes: [UInt8]

    func write(to json: inout JSONText) { json.raw(bytes: bytes) }
}

/// `arn:aws:dynamodb:<region>:000000000000:table/<name>/stream/<label>`
struct StreamARN: CustomStringConvertible, Equatable {
    var region: String
    var table: String
    var label: String

    init(region: String, table: String, label: String) {
        self.region = region
        self.table = table
        self.label = label
    }

    init(_ text: String) throws(DynamoStreamsError) {
        let parts = text.split(separator: ":", maxSplits: 5, omittingEmptySubsequences: false)
        let path = parts.count == 6 ? parts[5].split(separator: "/", omittingEmptySubsequences: false) : []
        guard parts.count == 6, parts[0] == "arn", parts[2] == "dynamodb", path.count == 4,
            path[0] == "table",
            path[2] == "stream", !path[1].isEmpty, text.utf8.count >= 37, text.utf8.count <= 1024
        else { throw .validation("Invalid StreamArn: \(text)") }
        self.init(region: String(parts[3]), table: String(path[1]), label: String(path[3]))
    }

    var description: String {
        "arn:aws:dynamodb:\(region):\(DynamoStreamsAPI.account):table/\(table)/stream/\(label)"
    }
}

/// The log's sequence numbers as DynamoDB's: 10^20 + seq, 21 decimal digits.
enum SequenceNumbers {
    static func format(_ seq: SequenceNumber) -> String {
        let digits = String(seq)
        return "1" + String(repeating: "0", count: 20 - digits.count) + digits
    }

    static func parse(_ text: String) -> SequenceNumber? {
        guard text.utf8.count == 21, text.first == "1", text.allSatisfy(\.isASCII) else { return nil }
        return SequenceNumber(text.dropFirst())
    }
}

/// Shard ids as DynamoDB writes them: `shardId-<shard, 20 digits>`.
enum ShardIDs {
    static let prefix = "shardId-"

    static func format(_ shard: ShardID) -> String {
        let digits = String(shard)
        return prefix + String(repeating: "0", count: 20 - digits.count) + digits
    }

    static func parse(_ text: String) -> ShardID? {
        guard text.hasPrefix(prefix), text.utf8.count == prefix.utf8.count + 20 else { return nil }
        return ShardID(text.dropFirst(prefix.count))
    }
}

/// The members of a request, with DynamoDB's validation errors.
struct Input {
    var members: [String: JSONValue]

    func optionalString(_ name: String) throws(DynamoStreamsError) -> String? {
        switch members[name] {
        case nil, .null: return nil
        case .string(let text): return text
        default: throw .serialization("\(name) must be a string")
        }
    }

    func string(_ name: String) throws(DynamoStreamsError) -> String {
        guard let text = try optionalString(name) else {
            throw .validation(
                "1 validation error detected: Value null at '\(name.prefix(1).lowercased() + name.dropFirst())' "
                    + "failed to satisfy constraint: Member must not be null")
        }
        return text
    }

    func limit(range: ClosedRange<Int>, default fallback: Int) throws(DynamoStreamsError) -> Int {
        switch members["Limit"] {
        case nil, .null: return fallback
        case .number(let value) where value.rounded() == value:
            guard value >= Double(range.lowerBound), value <= Double(range.upperBound) else {
                throw .validation(
                    "1 validation error detected: Value '\(JSONValue.numberText(value))' at 'limit' failed to satisfy "
                        + "constraint: Member must have value \(value < Double(range.lowerBound) ? "greater than or equal to \(range.lowerBound)" : "less than or equal to \(range.upperBound)")"
                )
            }
            return Int(value)
        default: throw .serialization("Limit must be an integer")
        }
    }
}
