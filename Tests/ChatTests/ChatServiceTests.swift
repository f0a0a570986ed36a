import ChatlogTestSupport
import Foundation
import JSONCoding
import Testing

@testable import Chat
@testable import EventLog

/// The chat domain straight over a real log, without HTTP.
@Suite(.timeLimit(.minutes(1))) struct ChatServiceTests {
    @Test func historyCursorsRoundTripAndRefuseGarbage() throws {
        let cursor = HistoryCursor(ascending: false, from: 42, bound: 7)
        #expect(try HistoryCursor(token: cursor.token) == cursor)
        #expect(
            try HistoryCursor(token: HistoryCursor(ascending: true, from: 1, bound: nil).token).bound == nil)
        for garbage in [
            "", "%%%", "eA", Data("x.1.".utf8).base64EncodedString(), Data("n.a.".utf8).base64EncodedString(),
        ] {
            #expect(throws: ChatError.self) { try HistoryCursor(token: garbage) }
        }
    }

    @Test func aRemovedMemberLosesAccessAtOnce() async throws {
        try await withChat { chat, _ in
            let channel = try await chat.createChannel(by: "alice", name: "x", members: ["bob"], agent: false)
            _ = try await chat.postMessage("hello", metadata: nil, to: channel.id, by: "bob")
            _ = try await chat.removeMember("bob", from: channel.id, by: "alice")
            await #expect(throws: ChatError.notFound("channel \(channel.id) not found")) {
                _ = try await chat.postMessage("again", metadata: nil, to: channel.id, by: "bob")
            }
            #expect(try chat.channels(of: "bob").isEmpty)
        }
    }

    @Test func theStoredFormIsTheAPIJSONAndOlderBinaryValuesStillRead() throws {
        let messages = [
            Message(
                id: "m1", channelId: "c1", seq: 7, senderId: "bob", text: "héllo \"you\"\n",
                createdAt: "2026-12-01T00:00:00.000Z",
                metadata: .object(["a": .array([.number(1.5), .null])]),
                editedAt: "2026-12-01T00:00:01.000Z", deleted: nil, replyTo: "m0"),
            Message(
                id: "m2", channelId: "c1", seq: 8, senderId: "alice", text: nil,
                createdAt: "2026-12-01T00:00:02.000Z",
                metadata: .null, editedAt: nil, deleted: true, replyTo: nil),
        ]
        for message in messages {
            var rendered = JSONText(capacity: 256)
            message.write(to: &rendered)
            #expect(message.stored == rendered.bytes)
            #expect(try Message(stored: message.stored) == message)
            #expect(try Message(stored: try olderBinaryForm(of: message)) == message)
            #expect(try Message.json(stored: try olderBinaryForm(of: message)) == message.stored)
        }
        #expect(throws: (any Error).self) { try Message(stored: Array(#"{"id":"x"}"#.utf8)) }
    }

    /// A message as data directories from before 2026-12 stored it.
    private func olderBinaryForm(of message: Message) throws -> [UInt8] {
        var writer = BinaryWriter()
        writer.write(message.id)
        writer.write(message.channelId)
        writer.write(message.seq)
        writer.write(message.senderId)
        writer.write(message.text)
        writer.write(message.createdAt)
        writer.write(
            try message.metadata.map { value in
                let encoder = JSONEncoder()
                encoder.outputFormatting = .sortedKeys
                return String(decoding: try encoder.encode(value), as: UTF8.self)
            })
        writer.write(message.editedAt)
        writer.write(message.deleted ?? false)
        writer.write(message.replyTo)
        return writer.bytes
    }

    @Test func theProjectionIsAFoldOfTheLog() async throws {
        try await withChat { chat, storage in
            let channel = try await chat.createChannel(by: "alice", name: "x", members: ["bob"], agent: true)
            let posted = try await chat.postMessage(
                "one", metadata: .object(["a": .number(1)]), to: channel.id, by: "bob")
            _ = try await chat.editMessage(posted.message.id, in: channel.id, text: "uno", by: "bob")
            _ = try await chat.postMessage("two", metadata: nil, to: channel.id, by: "alice")
            _ = try await chat.renameChannel(channel.id, to: "y", by: "bob")
            // Replaying the channel's records into an empty projection gives the same read model.
            let records = try await storage.channelRecords(
                stream: .chatEvents, channelID: channel.id, after: 0, limit: 100)
            let replayed = MemoryStore()
            for record in records { try ChatProjection().apply(record, to: replayed) }
            let live = try storage.readProjections { store in
                try ChatTables.all.map { table in try entries(of: table, in: store) }
            }
            #expect(try ChatTables.all.map { try entries(of: $0, in: replayed) } == live)
        }
    }

    private func entries(of table: String, in store: any ProjectionStore) throws -> [[UInt8]] {
        var entries: [[UInt8]] = []
        try store.scan(table, prefix: [], from: nil, reverse: false) { key, value in
            entries.append(key + [0xFF] + value)
            return true
        }
        return entries
    }
}

/// An in-memory projection store, to replay records into.
final class MemoryStore: ProjectionStore {
    private var tables: [String: [[UInt8]: [UInt8]]] = [:]

    func get(_ table: String, key: [UInt8]) throws -> [UInt8]? { tables[table]?[key] }
    func put(_ table: String, key: [UInt8], value: [UInt8]) throws {
        tables[table, default: [:]][key] = value
    }
    func delete(_ table: String, key: [UInt8]) throws -> Bool {
        tables[table]?.removeValue(forKey: key) != nil
    }
    func count(_ table: String) throws -> Int { tables[table]?.count ?? 0 }

    func scan(
        _ table: String, prefix: [UInt8], from start: [UInt8]?, reverse: Bool,
        _ body: ([UInt8], [UInt8]) throws -> Bool
    ) throws {
        var keys = (tables[table] ?? [:]).keys.filter { $0.starts(with: prefix) }.sorted {
            $0.lexicographicallyPrecedes($1)
        }
        if reverse { keys.reverse() }
        for key in keys {
            if let start,
                reverse
                    ? key.lexicographicallyPrecedes(start) == false && key != start
                    : key.lexicographicallyPrecedes(start)
            {
                continue
            }
            guard try body(key, tables[table]![key]!) else { return }
        }
    }
}
