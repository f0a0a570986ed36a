import ChatlogTestSupport
import EventLog
import Foundation
import LogBackends
import Logging
import Synchronization
import Testing

@testable import Consumers

/// A group that two nodes share on one JetStream log: one real cluster, two replicas.
extension StreamName {
    fileprivate static let shared: StreamName = "shared"
}

@Suite(.timeLimit(.minutes(2))) struct SharedGroupTests {
    /// Which node handled which record, in the order handled; records whose payload names a
    /// node that must stall are never finished there.
    final class Handled: Sendable {
        let log = Mutex<[(node: String, seq: SequenceNumber)]>([])

        func seqs(_ node: String? = nil) -> [SequenceNumber] {
            log.withLock { $0.filter { node == nil || $0.node == node }.map(\.seq) }
        }
    }

    struct NodeHandler: RecordHandler {
        let node: String
        let handled: Handled
        /// When set, the first record this node gets never finishes: the node hangs as a
        /// dead one would.
        var stalls = false
        /// How long each record takes.
        var takes: Duration = .zero
        /// The records this node always fails.
        var fails: Set<SequenceNumber> = []

        struct Refused: Error {}

        func handle(_ record: Record) async throws {
            if fails.contains(record.seq) { throw Refused() }
            handled.log.withLock { $0.append((node, record.seq)) }
            if takes > .zero { try await Task.sleep(for: takes) }
            // Until the runner is cancelled (a loop around `try?` would spin once it is).
            if stalls { try await Task.sleep(for: .seconds(3600)) }
        }
    }

    private func withTwoNodes(
        claimLifetime: Duration = .seconds(30), _ body: (any LogBackend, any LogBackend) async throws -> Void
    ) async throws {
        try await ChatlogTestSupport.withTwoNodes(
            LogConfiguration(streams: [StreamConfiguration(name: .shared, shardCount: 1)]),
            adjust: { $0.sharing(["g"], claimLifetime: claimLifetime) }, body)
    }

    private func runner(
        _ storage: any LogBackend, _ node: String, _ handled: Handled, stalls: Bool = false,
        takes: Duration = .zero, fails: Set<SequenceNumber> = []
    ) -> ConsumerRunner {
        var group = ConsumerGroupConfiguration(name: "g", stream: .shared)
        group.batchSize = 5
        group.retry = RetryPolicy(maxAttempts: 2, initialBackoff: .milliseconds(10))
        return ConsumerRunner(
            storage: storage, group: group,
            handler: NodeHandler(node: node, handled: handled, stalls: stalls, takes: takes, fails: fails),
            logger: Logger(label: node))
    }

    private func append(_ storage: any LogBackend, _ count: Int) async throws {
        for index in 0..<count {
            _ = try await storage.append(
                AppendRequest(
                    stream: .shared, partitionKey: "c", type: "t", actor: "a",
                    payload: Array("\"r\(index)\"".utf8)))
        }
    }

    private let shard = ShardKey(stream: .shared, shard: 0)

    @Test func twoNodesHandleEachRecordOnceInOrderAndAgreeOnTheCheckpoint() async throws {
        try await withTwoNodes { a, b in
            let handled = Handled()
            let runA = Task { try await runner(a, "a", handled).run() }
            let runB = Task { try await runner(b, "b", handled).run() }
            defer {
                runA.cancel()
                runB.cancel()
            }
            try await append(a, 60)
            try await append(b, 60)
            try await eventually("every record is handled") { handled.seqs().count >= 120 }
            // Once each, in the log's order, whichever node took each batch.
            #expect(handled.seqs() == Array(1...120))
            // The checkpoint is the cluster's: both nodes read the same one.
            try await eventually("the checkpoint reaches the head on both nodes") {
                let onA = try await a.checkpoint(group: "g", shard: shard)
                let onB = try await b.checkpoint(group: "g", shard: shard)
                return (onA, onB) == (120, 120)
            }
            #expect(try await a.checkpoints().contains { $0.group == "g" && $0.seq == 120 })
            // A reset on one node moves the group for both: the records after it come again.
            try await a.setCheckpoint(110, group: "g", shard: shard)
            try await eventually("records 111-120 are handled again") { handled.seqs().count >= 130 }
            #expect(Array(handled.seqs().suffix(10)) == Array(111...120))
            #expect(try await b.checkpoint(group: "g", shard: shard) >= 110)
            runA.cancel()
            runB.cancel()
            try await runA.value
            try await runB.value
        }
    }

    @Test func aHandlerSlowerThanTheClaimLifetimeKeepsItsClaim() async throws {
        try await withTwoNodes(claimLifetime: .seconds(1)) { a, b in
            let handled = Handled()
            try await append(a, 3)
            // Node a takes 2.5 lifetimes per record; node b waits for work all along.
            let runA = Task { try await runner(a, "a", handled, takes: .milliseconds(2500)).run() }
            defer { runA.cancel() }
            try await eventually("node a took a record") { handled.seqs("a").count == 1 }
            let runB = Task { try await runner(b, "b", handled).run() }
            defer { runB.cancel() }
            try await eventually("every record is handled") { Set(handled.seqs()).count == 3 }
            // Kept alive, the slow claim never went to node b a second time.
            #expect(handled.seqs().count == 3, "\(handled.log.withLock { $0 })")
            #expect(handled.seqs("a").first == 1)
        }
    }

    @Test func aClaimWhoseNodeDiesGoesToTheOtherNodeOnceItsLifetimePasses() async throws {
        try await withTwoNodes(claimLifetime: .seconds(1)) { a, b in
            let handled = Handled()
            try await append(a, 12)
            // Node a takes the first record, never finishes it, and dies: its connection to the
            // cluster closes, so nothing keeps its claim alive.
            let runA = Task { try await runner(a, "a", handled, stalls: true).run() }
            defer { runA.cancel() }
            try await eventually("node a took a record") { handled.seqs("a").count == 1 }
            a.close()
            let runB = Task { try await runner(b, "b", handled).run() }
            defer { runB.cancel() }
            try await eventually("node b handled every record") { handled.seqs("b").count >= 12 }
            #expect(handled.seqs("a") == [1])
            #expect(handled.seqs("b") == Array(1...12))
            runB.cancel()
            try await runB.value
        }
    }

    @Test func aDeadLetterSetAsideOnOneNodeIsListedAndRedrivenOnTheOther() async throws {
        try await withTwoNodes { a, b in
            let handled = Handled()
            try await append(a, 3)
            let runA = Task { try await runner(a, "a", handled, fails: [2]).run() }
            defer { runA.cancel() }
            try await eventually("node a went past the record it fails") { handled.seqs("a") == [1, 3] }
            // The letter is the cluster's: node b sees it, and only once.
            let letters = try await b.deadLetters(group: "g")
            #expect(letters.map(\.position) == [Position(stream: .shared, shard: 0, seq: 2)])
            #expect(letters.first?.attempts == 2)
            #expect(try await b.deadLetters(group: nil).map(\.group) == ["g"])
            #expect(try await b.deadLetters(group: "other").isEmpty)
            let report = try await NodeHandler(node: "b", handled: handled).redrive("g", in: b)
            #expect(report.redriven.map(\.seq) == [2])
            #expect(handled.seqs("b") == [2])
            #expect(try await a.deadLetters(group: "g").isEmpty)
            #expect(try await a.removeDeadLetter(group: "g", position: letters[0].position) == false)
        }
    }
}
