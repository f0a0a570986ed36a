import ArgumentParser
import EventLog

struct LogStreamsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "streams", abstract: "List the streams.")

    @OptionGroup var global: GlobalOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        let (storage, settings) = try await global.openLogReadOnly()
        defer { storage.close() }
        var table = Table("STREAM", "SHARDS", "RECORDS", "BYTES", "RETENTION")
        var json: [JSONOutput] = []
        for stream in storage.streams {
            let infos = try await storage.shardInfos(stream.shards)
            let records = infos.reduce(UInt64(0)) { $0 + $1.recordCount }
            let bytes = infos.reduce(UInt64(0)) { $0 + $1.bytes }
            let retention = settings.log.stream(stream.name)?.retention ?? Retention()
            table.add(
                stream.name.rawValue, "\(stream.shardCount)", "\(records)", Format.bytes(bytes),
                Self.describe(retention))
            json.append(
                .object([
                    ("name", .string(stream.name.rawValue)), ("shards", .int(Int64(stream.shardCount))),
                    ("records", .uint(records)), ("bytes", .uint(bytes)),
                    ("retention", .string(Self.describe(retention))),
                ]))
        }
        Console.out(output.json ? JSONOutput.object([("streams", .array(json))]).text : table.text)
    }

    static func describe(_ retention: Retention) -> String {
        var parts: [String] = []
        if let age = retention.maxAge { parts.append("\(age.components.seconds / 3600)h") }
        if let bytes = retention.maxBytesPerShard { parts.append(Format.bytes(UInt64(bytes)) + "/shard") }
        return parts.isEmpty ? "forever" : parts.joined(separator: ", ")
    }
}
