import ArgumentParser
import EventLog
import LogBackends

/// Appends as fast as it can and prints every acknowledged record, one line each, so that a
/// parent process can kill it at any moment and check that every acknowledged record survived.
///
/// Each line is `ack STREAM SHARD SEQ ID CHANNEL CHANNEL_SEQ`, written only after the append's
/// commit is durable.
struct AppendLoadCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "append-load", abstract: "Append messages concurrently, printing each acknowledgement.")

    @OptionGroup var global: GlobalOptions
    @Option(help: "Concurrent appenders.") var appenders: Int = 8
    @Option(help: "Channels to spread the messages over.") var channels: Int = 16
    @Option(help: "Messages per appender; 0 appends until killed.") var count: Int = 0

    func run() async throws {
        let settings = try await global.settings()
        let storage = try LogBackends.open(directory: settings.dataDirectory, configuration: settings.log)
        defer { storage.close() }
        Console.out("ready")
        try await withThrowingTaskGroup(of: Void.self) { group in
            for appender in 0..<appenders {
                group.addTask {
                    var sent = 0
                    while count == 0 || sent < count {
                        let channel = "load-\((appender + sent) % channels)"
                        let payload = "{\"text\":\"appender \(appender) message \(sent)\"}"
                        let result = try await storage.append(
                            .channel(
                                channel, type: "message.created", actor: "loader-\(appender)",
                                stream: .chatEvents,
                                payload: Array(payload.utf8)))
                        let record = result.record
                        Console.out(
                            "ack \(record.stream) \(record.shard) \(record.seq) \(record.id) \(channel) \(record.channelSeq ?? 0)"
                        )
                        sent += 1
                    }
                }
            }
            try await group.waitForAll()
        }
    }
}
