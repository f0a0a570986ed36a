import ChatServer
import EventLog
import Foundation
import LogBackends

/// The crash drill's checks over the log, once the server has stopped.
extension CrashDrillCommand {
    func check(
        directory: String, configuration: LogConfiguration, channels: [String], writers: DrillWriters,
        readers: [DrillReader], into report: inout CrashDrillReport
    ) async throws {
        let storage = try LogBackends.open(
            directory: directory, configuration: configuration, readOnly: true,
            projections: ChatServer.projections
        )
        defer { storage.close() }
        var findings = report.findings
        let acknowledged = writers.acknowledged
        findings.check(writers.unansweredCount == 0, "\(writers.unansweredCount) posts were never answered")
        var createdByText: [String: [Record]] = [:]
        var replies: [RecordID: Int] = [:]
        for (index, channel) in channels.enumerated() {
            let records = try await storage.channelRecords(
                stream: .chatEvents, channelID: channel, after: 0, limit: 10_000_000)
            report.recordsRead += records.count
            let head = try await storage.channelHead(stream: .chatEvents, channelID: channel)
            findings.check(
                records.map { $0.channelSeq ?? 0 } == Array(1...max(1, head)).prefix(records.count).map { $0 }
                    && UInt64(records.count) == head,
                "channel \(channel): channel seqs are not 1…\(head)")
            for (number, reader) in readers.enumerated() {
                findings.check(
                    reader.last(channel) == Int(head),
                    "reader \(number): channel \(channel) ended at seq \(reader.last(channel)), head \(head)")
            }
            for record in records where record.type == "message.created" {
                if record.actor == "agent" {
                    if let cause = record.causationID { replies[cause, default: 0] += 1 }
                    continue
                }
                let text = (try? JSONSerialization.jsonObject(with: Data(record.payload)) as? [String: Any])?[
                    "text"]
                if let text = text as? String { createdByText[text, default: []].append(record) }
            }
            if index % 2 == 0 {
                for record in records where record.type == "message.created" && record.actor != "agent" {
                    findings.check(
                        replies[record.id] == 1,
                        "agent: message \(record.id) in \(channel) has \(replies[record.id] ?? 0) replies")
                }
            }
        }
        for ack in acknowledged {
            let matches = createdByText[ack.key] ?? []
            findings.check(matches.count == 1, "message \(ack.key) is in the log \(matches.count) times")
            if let record = matches.first {
                findings.check(
                    record.id.description == ack.id && record.channelSeq == UInt64(ack.seq),
                    "message \(ack.key) was acknowledged as \(ack.id) at seq \(ack.seq) but the log has \(record.id) at \(record.channelSeq ?? 0)"
                )
            }
        }
        report.acknowledgedChecked = acknowledged.count
        report.readers = readers.count
        report.readerFrames = readers.reduce(0) { $0 + $1.frames }
        let verify = try storage.verify()
        for violation in verify.violations { findings.violations.append("verify: \(violation)") }
        for table in try storage.projectionMismatches() ?? [] {
            findings.violations.append("projection \(table) differs from the log folded afresh")
        }
        for checkpoint in try await storage.checkpoints() {
            let head = try await storage.shardInfo(
                ShardKey(stream: checkpoint.stream, shard: checkpoint.shard)
            )
            .head
            findings.check(
                checkpoint.seq <= head,
                "checkpoint \(checkpoint.group) on \(checkpoint.stream)/\(checkpoint.shard) is \(checkpoint.seq), past the head \(head)"
            )
        }
        report.findings = findings
    }
}

struct CrashDrillReport {
    var kills: Int
    var readyTimes: [Duration] = []
    var acknowledgedChecked = 0
    var recordsRead = 0
    var readers = 0
    var readerFrames = 0
    var findings = DrillFindings()

    private func milliseconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) * 1000 + Double(duration.components.attoseconds) / 1e15
    }

    func print(json: Bool) {
        let ready = readyTimes.map(milliseconds).sorted()
        let median = ready.isEmpty ? 0 : ready[ready.count / 2]
        if json {
            Console.out(
                JSONOutput.object([
                    ("kills", .int(Int64(kills))),
                    ("acknowledgedMessagesChecked", .int(Int64(acknowledgedChecked))),
                    ("recordsReadBack", .int(Int64(recordsRead))),
                    ("readers", .int(Int64(readers))), ("readerFrames", .int(Int64(readerFrames))),
                    ("readyMilliseconds", .array(readyTimes.map { .double(milliseconds($0)) })),
                    ("violations", .array(findings.violations.map { .string($0) })),
                    ("ok", .bool(findings.violations.isEmpty)),
                ]).text)
            return
        }
        Console.out("crash drill: \(kills) SIGKILLs under load")
        Console.out("  acknowledged messages checked: \(acknowledgedChecked) (each in the log exactly once)")
        Console.out(
            "  records read back: \(recordsRead); frames read by the \(readers) resuming readers: \(readerFrames)"
        )
        Console.out(
            String(
                format: "  time to ready after a restart: median %.0f ms, max %.0f ms (%d restarts)", median,
                ready.last ?? 0, ready.count))
        let each = readyTimes.map { String(format: "%.0f", milliseconds($0)) }.joined(separator: " ")
        if !each.isEmpty { Console.out("  ready after each restart (ms): \(each)") }
        for violation in findings.violations { Console.out("  VIOLATION \(violation)") }
        Console.out(
            findings.violations.isEmpty
                ? "OK: no violations" : "FAILED: \(findings.violations.count) violations")
    }
}
