import ArgumentParser
import EventLog

struct LogTailCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tail",
        abstract: "Print a stream's newest records, and with --follow every record appended after them.")

    @OptionGroup var global: GlobalOptions
    @Option(help: "The stream.") var stream: String = StreamName.chatEvents.rawValue
    @Option(help: "Only this shard.") var shard: Int?
    @Option(name: [.customShort("n"), .long], help: "How many records to print first.") var lines: Int = 20
    @Flag(help: "Keep printing records as they are appended, until interrupted.") var follow = false
    @Flag(help: "Print one JSON object per line.") var json = false

    func run() async throws {
        let (storage, _) = try await global.openLogReadOnly()
        defer { storage.close() }
        let descriptor = try storage.descriptor(StreamName(stream))
        let shards =
            try shard.map { number in
                let key = ShardKey(stream: descriptor.name, shard: number)
                try storage.validate(key)
                return [key]
            } ?? descriptor.shards
        // Following before the first read, and its last commit taken before it: a commit during
        // it is read at once.
        let follower = follow ? try storage.commitFollower() : nil
        var seenCommit = try follower?.lastCommit() ?? 0
        var positions: [ShardKey: SequenceNumber] = [:]
        var recent: [Record] = []
        for shard in shards {
            let info = try await storage.shardInfo(shard)
            let start = max(info.firstSeq, info.head >= UInt64(lines) ? info.head - UInt64(lines) + 1 : 1)
            recent += try await storage.loadNext(shard, after: start - 1, limit: lines, maxBytes: 16 << 20)
            positions[shard] = info.head
        }
        print(recent.sorted { ($0.createdAt, $0.seq) < ($1.createdAt, $1.seq) }.suffix(lines))
        guard let follower else { return }
        // After each commit of the writer (another process), read until a read finds nothing.
        while !Task.isCancelled {
            let commit = try await follower.next(after: seenCommit, timeout: .seconds(1))
            guard commit != seenCommit else { continue }
            var fresh: [Record] = []
            for shard in shards {
                let records = try await storage.loadNext(
                    shard, after: positions[shard]!, limit: 1000, maxBytes: 16 << 20)
                if let last = records.last { positions[shard] = last.seq }
                fresh += records
            }
            if fresh.isEmpty { seenCommit = commit }
            print(fresh.sorted { ($0.createdAt, $0.seq) < ($1.createdAt, $1.seq) })
        }
    }

    private func print(_ records: some Sequence<Record>) {
        for record in records {
            Console.out(json ? RecordOutput.json(record).text : RecordOutput.line(record))
        }
    }
}
