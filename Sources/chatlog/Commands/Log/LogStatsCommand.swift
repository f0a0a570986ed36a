import ArgumentParser
import EventLog

struct LogStatsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stats", abstract: "Show the storage's size, map, readers and index sizes.")

    @OptionGroup var global: GlobalOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        let (storage, settings) = try await global.openLogReadOnly()
        defer { storage.close() }
        let stats = try storage.statistics()
        var records: UInt64 = 0
        var bytes: UInt64 = 0
        for shard in storage.streams.flatMap(\.shards) {
            let info = try await storage.shardInfo(shard)
            records += info.recordCount
            bytes += info.bytes
        }
        let rows: [(String, String, JSONOutput)] = [
            ("data directory", settings.dataDirectory, .string(settings.dataDirectory)),
            ("durability", stats.durability, .string(stats.durability)),
            ("records", "\(records)", .uint(records)),
            ("record bytes", Format.bytes(bytes), .uint(bytes)),
            ("file size", Format.bytes(UInt64(stats.fileSize)), .int(Int64(stats.fileSize))),
            ("map used", Format.bytes(UInt64(stats.usedBytes)), .int(Int64(stats.usedBytes))),
            ("map size", Format.bytes(UInt64(stats.mapSize)), .int(Int64(stats.mapSize))),
            ("max map size", Format.bytes(UInt64(stats.maxMapSize)), .int(Int64(stats.maxMapSize))),
            ("page size", "\(stats.pageSize)", .int(Int64(stats.pageSize))),
            ("readers", "\(stats.readers) of \(stats.maxReaders)", .int(Int64(stats.readers))),
            ("last transaction", "\(stats.lastTransactionID)", .int(Int64(stats.lastTransactionID))),
            ("channels", "\(stats.channels)", .int(Int64(stats.channels))),
            ("channel index entries", "\(stats.channelIndexEntries)", .int(Int64(stats.channelIndexEntries))),
            ("idempotency keys", "\(stats.idempotencyKeys)", .int(Int64(stats.idempotencyKeys))),
            ("checkpoints", "\(stats.checkpoints)", .int(Int64(stats.checkpoints))),
        ]
        if output.json {
            Console.out(JSONOutput.object(rows.map { (Self.camelCase($0.0), $0.2) }).text)
        } else {
            var table = Table("STATISTIC", "VALUE")
            for row in rows { table.add(row.0, row.1) }
            Console.out(table.text)
        }
    }

    static func camelCase(_ words: String) -> String {
        let parts = words.split(separator: " ")
        return parts.enumerated().map { $0.offset == 0 ? String($0.element) : $0.element.capitalized }
            .joined()
    }
}
