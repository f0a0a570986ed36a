import ArgumentParser
import EventLog

struct LogGetRecordsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "get-records",
        abstract: "Read records from a shard through a shard iterator.",
        discussion: """
            Start with --iterator (and --seq or --timestamp where it needs one), or continue with \
            --token set to the nextIterator a previous call printed. --to-end reads page after page \
            until the shard's head (with --json, one page object per line).
            """)

    @OptionGroup var global: GlobalOptions
    @Option(help: "The stream.") var stream: String = StreamName.chatEvents.rawValue
    @Option(help: "The shard, from 0.") var shard: Int = 0
    @Option(
        help: "TRIM_HORIZON, LATEST, AT_SEQUENCE_NUMBER, AFTER_SEQUENCE_NUMBER or AT_TIMESTAMP.")
    var iterator: String = "TRIM_HORIZON"
    @Option(help: "The sequence number for AT_/AFTER_SEQUENCE_NUMBER.") var seq: UInt64?
    @Option(help: "The RFC 3339 time for AT_TIMESTAMP.") var timestamp: String?
    @Option(help: "A nextIterator token from an earlier call.") var token: String?
    @Option(help: "The most records to return, 1 to 1000.") var limit: Int = 100
    @Flag(help: "Read on, page after page, up to the shard's head.") var toEnd = false
    @OptionGroup var output: OutputOptions

    func run() async throws {
        let (storage, settings) = try await global.openLogReadOnly()
        defer { storage.close() }
        let log = EventLog(storage: storage, iteratorLifetime: settings.log.iteratorLifetime)
        let start: ShardIterator
        if let token {
            start = try ShardIterator(token: token)
        } else {
            start = try await log.shardIterator(
                ShardKey(stream: StreamName(stream), shard: shard), type: try iteratorType())
        }
        var page = try await log.getRecords(start, limit: limit)
        print(page)
        while toEnd, page.behindHead > 0, !page.records.isEmpty {
            page = try await log.getRecords(page.nextIterator, limit: limit)
            print(page)
        }
    }

    private func print(_ page: EventLog.RecordsPage) {
        if output.json {
            Console.out(
                JSONOutput.object([
                    ("records", .array(page.records.map(RecordOutput.json))),
                    ("nextIterator", .string(page.nextIterator.token)),
                    ("recordsBehindHead", .uint(page.behindHead)),
                ]).text)
        } else {
            for record in page.records { Console.out(RecordOutput.line(record)) }
            Console.error("\(page.records.count) records; \(page.behindHead) more behind; next iterator:")
            Console.error(page.nextIterator.token)
        }
    }

    func validate() throws {
        if token == nil { _ = try iteratorType() }
    }

    private func iteratorType() throws -> ShardIteratorType {
        func requireSeq() throws -> UInt64 {
            guard let seq else { throw ValidationError("--iterator \(iterator) needs --seq") }
            return seq
        }
        switch iterator.uppercased() {
        case "TRIM_HORIZON": return .trimHorizon
        case "LATEST": return .latest
        case "AT_SEQUENCE_NUMBER": return .atSequenceNumber(try requireSeq())
        case "AFTER_SEQUENCE_NUMBER": return .afterSequenceNumber(try requireSeq())
        case "AT_TIMESTAMP":
            guard let timestamp else { throw ValidationError("--iterator AT_TIMESTAMP needs --timestamp") }
            guard let time = Timestamp(rfc3339: timestamp) else {
                throw ValidationError("--timestamp '\(timestamp)' is not an RFC 3339 time")
            }
            return .atTimestamp(time)
        default:
            throw ValidationError(
                "unknown iterator type '\(iterator)'; use one of \(ShardIteratorType.names.joined(separator: ", "))"
            )
        }
    }
}
