import EventLog
import Foundation
import LMDB

extension LMDBStorage {
    static func deadLetterKey(group: String, position: Position) -> [UInt8] {
        StorageKeys.checkpoint(group: group, shard: position.shardKey) + BigEndian.bytes(position.seq)
    }

    public func addDeadLetter(_ letter: DeadLetter) async throws {
        try validate(letter.position.shardKey)
        let value = Array(try JSONEncoder().encode(letter))
        try await writing { context in
            try context.transaction.put(
                context.tables.deadLetters,
                key: Self.deadLetterKey(group: letter.group, position: letter.position),
                value: value)
        }
    }

    public func deadLetters(group: String?) throws -> [DeadLetter] {
        try reading { transaction in
            var letters: [DeadLetter] = []
            try transaction.withCursor(tables.deadLetters) { cursor in
                var entry = try group.map { try cursor.seek(atLeast: Array($0.utf8) + [0]) } ?? cursor.first()
                while let (key, value) = entry {
                    if let group, !key.starts(with: Array(group.utf8) + [0]) { break }
                    letters.append(try JSONDecoder().decode(DeadLetter.self, from: Data(value)))
                    entry = try cursor.next()
                }
            }
            return letters
        }
    }

    public func removeDeadLetter(group: String, position: Position) async throws -> Bool {
        try await writing { context in
            try context.transaction.delete(
                context.tables.deadLetters, key: Self.deadLetterKey(group: group, position: position))
        }
    }
}
