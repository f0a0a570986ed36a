import Foundation

/// The `chatlog` binary built beside this test bundle (or `CHATLOG_BINARY`).
let chatlogBinary: String = {
    if let path = ProcessInfo.processInfo.environment["CHATLOG_BINARY"] { return path }
    let testBinary = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
    return testBinary.deletingLastPathComponent().appendingPathComponent("chatlog").path
}()

/// The outcome of a command run to completion.
struct CommandResult {
    var status: Int32
    var output: String
    var error: String
}

/// Runs `chatlog` with `arguments` (and extra environment variables) and waits for it to exit.
func runChatlog(_ arguments: [String], environment: [String: String] = [:]) async throws -> CommandResult {
    let child = try ChildProcess(arguments, environment: environment)
    let output = await child.readToEnd()
    let status = await child.waitForExit()
    return CommandResult(status: status, output: output, error: child.standardError())
}

/// A running `chatlog` child whose standard output is read line by line.
final class ChildProcess: @unchecked Sendable {
    // Safe: `process` and the pipes are set once in init; reads happen on one queue at a time.
    let process = Process()
    private let outputPipe = Pipe()
    private let errorPipe = Pipe()
    private var buffer = Data()

    init(_ arguments: [String], environment: [String: String] = [:]) throws {
        process.executableURL = URL(fileURLWithPath: chatlogBinary)
        process.arguments = arguments
        if !environment.isEmpty {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        }
        process.standardOutput = outputPipe
        process.standardError = errorPipe
        try process.run()
    }

    /// The next line of standard output, or nil at end of file.
    func nextLine() async -> String? {
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(returning: self.blockingNextLine())
            }
        }
    }

    private func blockingNextLine() -> String? {
        while true {
            if let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                let line = String(decoding: buffer[buffer.startIndex..<newline], as: UTF8.self)
                buffer.removeSubrange(buffer.startIndex...newline)
                return line
            }
            let chunk = outputPipe.fileHandleForReading.availableData
            if chunk.isEmpty {
                guard !buffer.isEmpty else { return nil }
                defer { buffer.removeAll() }
                return String(decoding: buffer, as: UTF8.self)
            }
            buffer.append(chunk)
        }
    }

    /// Everything left on standard output.
    func readToEnd() async -> String {
        var lines: [String] = []
        while let line = await nextLine() { lines.append(line) }
        return lines.joined(separator: "\n")
    }

    func standardError() -> String {
        String(decoding: errorPipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    }

    func kill(_ signal: Int32 = SIGKILL) {
        Foundation.kill(process.processIdentifier, signal)
    }

    func waitForExit() async -> Int32 {
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                self.process.waitUntilExit()
                continuation.resume(returning: self.process.terminationStatus)
            }
        }
    }
}

/// A fresh temporary directory, removed by `remove()`.
struct TemporaryDirectory {
    let path: String

    init() throws {
        path = NSTemporaryDirectory() + "chatlog-e2e-" + UUID().uuidString.lowercased()
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    func remove() {
        try? FileManager.default.removeItem(atPath: path)
    }
}
