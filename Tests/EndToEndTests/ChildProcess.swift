import ChatlogTestSupport
import Foundation
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

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

/// Starts `chatlog serve` in `directory` on a free port; returns it and its base URL
/// (`http://host:port`) once it listens.
func startServer(in directory: TemporaryDirectory) async throws -> (ChildProcess, String) {
    try await startServer(at: directory.path)
}

/// `startServer` in any directory, optionally under a umask or with extra environment variables.
func startServer(at directory: String, umask: mode_t? = nil, environment: [String: String] = [:]) async throws
    -> (ChildProcess, String)
{
    try await startListening(
        ["serve", "--data-dir", directory, "--port", "0"], umask: umask, environment: environment)
}

/// Runs a chatlog command that serves HTTP and returns once it prints the URL it listens on.
func startListening(_ arguments: [String], umask: mode_t? = nil, environment: [String: String] = [:])
    async throws -> (ChildProcess, String)
{
    let server = try ChildProcess(arguments, environment: environment, umask: umask)
    var printed: [String] = []
    while let line = await server.nextLine(within: .seconds(30)) {
        if let range = line.range(of: "http://") {
            return (server, String(line[range.lowerBound...].prefix { $0 != " " }))
        }
        printed.append(line)
    }
    server.kill()
    let status = await server.waitForExit()
    throw ServerDidNotStart(
        command: arguments.prefix(2).joined(separator: " "),
        standardError: "exit \(status): " + printed.joined(separator: "\n") + "\n" + server.standardError())
}

/// A serving command exited or stayed silent instead of listening.
struct ServerDidNotStart: Error, CustomStringConvertible {
    var command: String
    var standardError: String
    var description: String { "chatlog \(command) did not start: \(standardError.suffix(2000))" }
}

/// A token for `user` from `chatlog token`, which signs with the data directory's secret.
func developmentToken(_ user: String, in directory: TemporaryDirectory) async throws -> String {
    let printed = try await runChatlog(["token", "--data-dir", directory.path, "--user", user]).output
    return try #require(printed.split(separator: "\n").last.map(String.init))
}

/// Creates a channel on the server at `base` and returns its id.
func createChannel(_ name: String, at base: String, token: String, agent: Bool = false) async throws -> String
{
    var request = URLRequest(url: URL(string: base + "/v1/channels")!)
    request.httpMethod = "POST"
    request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
    request.setValue("application/json", forHTTPHeaderField: "Content-Type")
    request.httpBody = try JSONSerialization.data(withJSONObject: ["name": name, "agent": agent])
    let (data, _) = try await URLSession.shared.data(for: request)
    let body = try JSONSerialization.jsonObject(with: data) as? [String: Any]
    return try #require(
        (body?["channel"] as? [String: Any])?["id"] as? String, "\(String(decoding: data, as: UTF8.self))")
}

/// A running `chatlog` child whose standard output is read line by line.
final class ChildProcess: @unchecked Sendable {
    // Safe: `process` and the pipes are set once in init; reads happen on one queue at a time.
    let process = Process()
    private let outputPipe = Pipe()
    private let errorPipe = Pipe()
    private var buffer = Data()

    /// Starts `chatlog` with `arguments`; with `umask`, under that umask (through `sh`).
    init(_ arguments: [String], environment: [String: String] = [:], umask: mode_t? = nil) throws {
        if let umask {
            process.executableURL = URL(fileURLWithPath: "/bin/sh")
            process.arguments =
                ["-c", "umask \(String(umask, radix: 8)) && exec \"$0\" \"$@\"", chatlogBinary] + arguments
        } else {
            process.executableURL = URL(fileURLWithPath: chatlogBinary)
            process.arguments = arguments
        }
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

    /// The next line, or nil when none comes within `limit`: the child is then killed, so a
    /// test waiting for output that never comes fails instead of hanging.
    func nextLine(within limit: Duration) async -> String? {
        let watchdog = Task {
            try await Task.sleep(for: limit)
            self.kill()
        }
        defer { watchdog.cancel() }
        return await nextLine()
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
