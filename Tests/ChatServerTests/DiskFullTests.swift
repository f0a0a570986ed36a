import ChatServer
import ChatlogTestSupport
import EventLog
import Foundation
import Testing

/// A real full device: a small tmpfs mounted for the test (where the machine allows mounts: root
/// in a container with the capability; CI runs so).
@Suite(
    .timeLimit(.minutes(1)),
    .enabled(if: SmallTmpfs.canMount, "this machine does not let the tests mount a tmpfs"))
struct DiskFullTests {
    @Test func aFullDiskIsA503KeepsWhatWasAcknowledgedAndWritesResumeOnceSpaceReturns() async throws {
        try await SmallTmpfs.with(megabytes: 24) { mount in
            // Most of the device is taken by a file the test deletes later to make room.
            let filler = mount + "/filler"
            try Data(count: 14 << 20).write(to: URL(fileURLWithPath: filler))
            try await TestServer.run(directory: mount + "/data") { server in
                let channel = try await server.createChannel(by: "alice")
                let path = "/v1/channels/\(channel)/messages"
                var accepted: [String] = []
                var refusal: APIResponse?
                while refusal == nil, accepted.count < 5_000 {
                    let text = "m\(accepted.count) " + String(repeating: "z", count: 16_000)
                    let response = try await server.send(.post, path, as: "alice", json: ["text": text])
                    if response.status == .created { accepted.append(text) } else { refusal = response }
                }
                let full = try #require(refusal, "the device never filled up")
                expectError(full, .serviceUnavailable, "storage_full")
                #expect(full.errorMessage?.contains("no space left") == true, "\(full.text)")
                #expect(accepted.count > 10)
                // Everything acknowledged is there, whole.
                let history = try await server.send(.get, path + "?limit=100", as: "alice")
                let texts = (history.body["messages"] as? [[String: Any]])?.compactMap {
                    $0["text"] as? String
                }
                #expect(texts == Array(accepted.suffix(100)))
                #expect(try server.storage.verify().isSound)
                // Room again: the next write is taken, with nothing to restart.
                try FileManager.default.removeItem(atPath: filler)
                let again = try await server.send(.post, path, as: "alice", json: ["text": "room again"])
                #expect(again.status == .created, "\(again.text)")
                #expect(try server.storage.verify().isSound)
            }
        }
    }
}

/// A tmpfs of a given size mounted on a temporary directory for the length of a closure.
enum SmallTmpfs {
    /// Whether this machine lets the tests mount one: root, and a container that allows it.
    static let canMount: Bool = {
        guard geteuid() == 0, FileManager.default.isExecutableFile(atPath: "/bin/mount"),
            let probe = try? TemporaryDirectory()
        else { return false }
        defer { probe.remove() }
        guard (try? run("/bin/mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", probe.path)) != nil else {
            return false
        }
        try? run("/bin/umount", "--lazy", probe.path)
        return true
    }()

    static func with(megabytes: Int, _ body: (String) async throws -> Void) async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        try run("/bin/mount", "-t", "tmpfs", "-o", "size=\(megabytes)m,mode=0700", "tmpfs", directory.path)
        // Lazily: a child process another test starts meanwhile may hold an inherited descriptor.
        defer { try? run("/bin/umount", "--lazy", directory.path) }
        try await body(directory.path)
    }

    fileprivate static func run(_ arguments: String...) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: arguments[0])
        process.arguments = Array(arguments.dropFirst())
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSLocalizedDescriptionKey: "\(arguments) failed"])
        }
    }
}
