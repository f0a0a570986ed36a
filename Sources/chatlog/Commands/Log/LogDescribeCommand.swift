import ArgumentParser
import EventLog

struct LogDescribeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "describe", abstract: "Describe a stream's shards and the consumer checkpoints on them.")

    @OptionGroup var global: GlobalOptions
    @Option(help: "The stream.") var stream: String = StreamName.chatEvents.rawValue
    @OptionGroup var output: OutputOptions

    func run() async throws {
        let (storage, _) = try await global.openLogReadOnly()
        defer { storage.close() }
        let descriptor = try storage.descriptor(StreamName(stream))
        let checkpoints = try await storage.checkpoints().filter { $0.stream == descriptor.name }
        var table = Table("SHARD", "FIRST SEQ", "HEAD", "RECORDS", "BYTES", "OLDEST", "NEWEST")
        var shards: [JSONOutput] = []
        for shard in descriptor.shards {
            let info = try await storage.shardInfo(shard)
            table.add(
                "\(info.shard)", "\(info.firstSeq)", "\(info.head)", "\(info.recordCount)",
                Format.bytes(info.bytes),
                info.oldestCreatedAt?.rfc3339 ?? "-", info.newestCreatedAt?.rfc3339 ?? "-")
            shards.append(
                .object([
                    ("shard", .int(Int64(info.shard))), ("firstSeq", .uint(info.firstSeq)),
                    ("head", .uint(info.head)),
                    ("records", .uint(info.recordCount)), ("bytes", .uint(info.bytes)),
                    ("oldestCreatedAt", .optional(info.oldestCreatedAt?.rfc3339)),
                    ("newestCreatedAt", .optional(info.newestCreatedAt?.rfc3339)),
                ]))
        }
        var checkpointTable = Table("GROUP", "SHARD", "CHECKPOINT", "UPDATED")
        for checkpoint in checkpoints {
            checkpointTable.add(
                checkpoint.group, "\(checkpoint.shard)", "\(checkpoint.seq)", checkpoint.updatedAt.rfc3339)
        }
        if output.json {
            let json = JSONOutput.object([
                ("stream", .string(descriptor.name.rawValue)),
                ("shardCount", .int(Int64(descriptor.shardCount))),
                ("shards", .array(shards)),
                (
                    "checkpoints",
                    .array(
                        checkpoints.map {
                            .object([
                                ("group", .string($0.group)), ("shard", .int(Int64($0.shard))),
                                ("checkpoint", .uint($0.seq)),
                                ("updatedAt", .string($0.updatedAt.rfc3339)),
                            ])
                        })
                ),
            ])
            Console.out(json.text)
        } else {
            Console.out("stream \(descriptor.name), \(descriptor.shardCount) shards\n\n\(table.text)")
            if !checkpoints.isEmpty { Console.out("\n" + checkpointTable.text) }
        }
    }
}
