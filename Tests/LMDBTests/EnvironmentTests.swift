import ChatlogTestSupport
import Foundation
import LMDB
import Testing

@Suite(.timeLimit(.minutes(1))) struct EnvironmentTests {
    private func withEnvironment(
        _ options: Environment.Options = .init(), _ body: (Environment) throws -> Void
    ) throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.path
        let environment = try Environment(path: path, options: options)
        defer { environment.close() }
        try body(environment)
    }

    @Test func writesAreVisibleAfterCommitAndAbortedOnThrow() throws {
        struct Abort: Error {}
        try withEnvironment { environment in
            let database = try environment.write { try $0.openDatabase("t", options: .create) }
            try environment.write { try $0.put(database, key: [1], value: [10]) }
            #expect(throws: Abort.self) {
                try environment.write { transaction in
                    try transaction.put(database, key: [2], value: [20])
                    throw Abort()
                }
            }
            try environment.read { (transaction: Transaction) throws in
                #expect(try transaction.get(database, key: [1]) == [10])
                #expect(try transaction.get(database, key: [2]) == nil)
            }
        }
    }

    @Test func aNestedTransactionUndoesOnlyItsOwnWrites() throws {
        struct Abort: Error {}
        try withEnvironment { environment in
            let database = try environment.write { try $0.openDatabase("t", options: .create) }
            try environment.write { transaction in
                try transaction.put(database, key: [1], value: [1])
                _ = try? transaction.nested { nested in
                    try nested.put(database, key: [2], value: [2])
                    throw Abort()
                }
            }
            try environment.read { (transaction: Transaction) throws in
                #expect(try transaction.get(database, key: [1]) == [1])
                #expect(try transaction.get(database, key: [2]) == nil)
            }
        }
    }

    @Test func cursorsWalkInKeyOrderAndSeek() throws {
        try withEnvironment { environment in
            let database = try environment.write { try $0.openDatabase("t", options: .create) }
            try environment.write { transaction in
                for key: UInt8 in [5, 1, 3] { try transaction.put(database, key: [key], value: [key * 2]) }
            }
            try environment.read { (transaction: Transaction) throws in
                try transaction.withCursor(database) { (cursor: inout Cursor) throws in
                    var keys: [UInt8] = []
                    var entry = try cursor.first()
                    while let current = entry {
                        keys.append(current.key[0])
                        entry = try cursor.next()
                    }
                    #expect(keys == [1, 3, 5])
                    #expect(try cursor.seek(atLeast: [2])?.key.first == 3)
                    #expect(try cursor.seek(atLeast: [6]) == nil)
                    #expect(try cursor.last()?.value.first == 10)
                }
            }
        }
    }

    @Test func aFullMapIsReportedAndGrowingItLetsTheWriteThrough() throws {
        var options = Environment.Options()
        options.mapSize = 1 << 20
        try withEnvironment(options) { environment in
            let database = try environment.write { try $0.openDatabase("t", options: .create) }
            let big = [UInt8](repeating: 7, count: 2 << 20)
            #expect {
                try environment.write { try $0.put(database, key: [1], value: big) }
            } throws: { ($0 as? LMDBError)?.isMapFull == true }
            try environment.setMapSize(8 << 20)
            try environment.write { try $0.put(database, key: [1], value: big) }
            #expect(try environment.read { try $0.get(database, key: [1])?.count } == big.count)
        }
    }

    @Test func reusedReadTransactionsSeeTheLatestCommit() throws {
        struct Refused: Error {}
        try withEnvironment { environment in
            let database = try environment.write { try $0.openDatabase("t", options: .create) }
            for value in UInt8(1)...40 {
                try environment.write { try $0.put(database, key: [1], value: [value]) }
                #expect(try environment.read { try $0.get(database, key: [1]) } == [value])
                // A read that throws hands its transaction back too.
                #expect(throws: Refused.self) { try environment.read { _ in throw Refused() } }
            }
            // More reads at once than are kept idle: each sees the same snapshot.
            let values = try environment.read { outer in
                try (0..<40).map { _ in
                    try environment.read { inner in try inner.get(database, key: [1]) }
                } + [try outer.get(database, key: [1])]
            }
            #expect(values == Array(repeating: [40], count: 41))
            #expect(try environment.read { try $0.get(database, key: [1]) } == [40])
        }
    }

    @Test func aDatabaseOpenedInAReadStaysOpenForLaterReads() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.path
        let writer = try Environment(path: path)
        try writer.write { transaction in
            try transaction.put(try transaction.openDatabase("t", options: .create), key: [1], value: [7])
        }
        writer.close()
        var options = Environment.Options()
        options.readOnly = true
        let reader = try Environment(path: path, options: options)
        defer { reader.close() }
        let database = try reader.read { try $0.openDatabase("t") }
        for _ in 0..<3 {
            #expect(try reader.read { try $0.get(database, key: [1]) } == [7])
        }
    }

    @Test func aClosedEnvironmentRefusesTransactions() throws {
        try withEnvironment { environment in
            environment.close()
            #expect(throws: LMDBError.closed) { try environment.read { _ in } }
        }
    }
}
