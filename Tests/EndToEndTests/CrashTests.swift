import ChatServer
import ChatlogTestSupport
import EventLog
import Foundation
import LogBackends
import Testing

/// A writer killed with SIGKILL at a random moment loses no acknowledged record and leaves no
/// torn one: LMDB commits are atomic and acknowledgements follow the sync.
@Suite(.timeLimit(.minutes(2))) struct CrashTests {
    struct Ack: Hashable {
        var position: Position
        var id: String
        var channel: String
        var channelSeq: SequenceNumber
    }

    static func parseAck(_ line: String) -> Ack? {
        let fields = line.split(separator: " ").map(String.init)
        guard fields.count == 7, fields[0] == "ack", let shard = Int(fields[2]), let seq = UInt64(fields[3]),
            let channelSeq = UInt64(fields[6])
        else { return nil }
        return Ack(
            position: Position(stream: StreamName(fields[1]), shard: shard, seq: seq), id: fields[4],
            channel: fields[5],
            channelSeq: channelSeq)
    }

    @Test func everyAcknowledgedAppendSurvivesSIGKILL() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        var acknowledged: [Ack] = []
        for round in 0..<5 {
            let child = try ChildProcess([
                "debug", "append-load", "--data-dir", directory.path, "--appenders", "16",
            ])
            #expect(await child.nextLine() == "ready")
            let killAfter = Int.random(in: 20...400)
            var seen = 0
            while seen < killAfter, let line = await child.nextLine() {
                if let ack = Self.parseAck(line) {
                    acknowledged.append(ack)
                    seen += 1
                }
            }
            child.kill()
            // Lines already written before the kill were acknowledged too.
            while let line = await child.nextLine() {
                if let ack = Self.parseAck(line) { acknowledged.append(ack) }
            }
            #expect(await child.waitForExit() == SIGKILL, "round \(round)")
        }
        #expect(acknowledged.count >= 100)
        #expect(Set(acknowledged.map(\.position)).count == acknowledged.count)

        let storage = try LogBackends.open(
            directory: directory.path, configuration: LogConfiguration(streams: ChatServer.streams))
        defer { storage.close() }
        for ack in acknowledged {
            let record = try await #require(
                try storage.record(at: ack.position), "acknowledged \(ack.position) is missing")
            #expect(record.id.description == ack.id)
            #expect(record.channelID == ack.channel)
            #expect(record.channelSeq == ack.channelSeq)
        }
        let report = try storage.verify()
        #expect(report.isSound, "\(report.violations)")
        #expect(report.recordsChecked >= UInt64(acknowledged.count))
    }
}
