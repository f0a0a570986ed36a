import Foundation

/// `chatlog serve` as a child process — on a temporary data directory unless given one — so
/// that load generators and the server's own memory are measured apart, and so that drills can
/// kill it.
final class BenchServer {
    let process = Process()
    let port: Int
    let secret: String
    let directory: String
    private let removeOnStop: Bool
    /// From the start of the process to its "listening" line.
    let startup: Duration

    /// `arguments` runs another command than `serve` (a bare yardstick server).
    init(
        directory given: String? = nil, secret: String? = nil, environment extra: [String: String] = [:],
        arguments: [String]? = nil
    ) throws {
        let started = ContinuousClock.now
        self.secret = secret ?? "bench-secret-" + UUID().uuidString
        removeOnStop = given == nil
        directory = given ?? NSTemporaryDirectory() + "chatlog-bench-ws-" + UUID().uuidString.lowercased()
        process.executableURL = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        process.arguments = arguments ?? ["serve", "--data-dir", directory, "--port", "0"]
        var environment = ProcessInfo.processInfo.environment
        environment["CHATLOG_JWT_SECRET"] = self.secret
        environment["CHATLOG_RATE_LIMIT_ENABLED"] = "false"
        // The benchmark's clients all come from one address, by the thousand.
        environment["CHATLOG_HTTP_MAX_CONNECTIONS"] = "1000000"
        environment["CHATLOG_HTTP_MAX_CONNECTIONS_PER_ADDRESS"] = "1000000"
        environment.merge(extra) { $1 }
        process.environment = environment
        let output = Pipe()
        process.standardError = output
        process.standardOutput = output
        try process.run()
        var port: Int?
        var pending = Data()
        while port == nil {
            let chunk = output.fileHandleForReading.availableData
            guard !chunk.isEmpty else { break }
            pending.append(chunk)
            let text = String(decoding: pending, as: UTF8.self)
            if let range = text.range(of: "http://127.0.0.1:") {
                port = Int(text[range.upperBound...].prefix { $0.isNumber })
            }
        }
        guard let port else { throw BenchFailure("the server did not start") }
        self.port = port
        startup = ContinuousClock.now - started
        // Keep draining its output so it never blocks on a full pipe.
        output.fileHandleForReading.readabilityHandler = { _ = $0.availableData }
    }

    /// The server's resident memory in bytes (VmRSS).
    var residentBytes: Int {
        guard
            let status = try? String(
                contentsOfFile: "/proc/\(process.processIdentifier)/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") })
        else { return 0 }
        return (Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "") ?? 0)
            * 1024
    }

    /// The CPU time the server has used (user and system), from /proc.
    var cpuTime: Duration {
        guard
            let stat = try? String(
                contentsOfFile: "/proc/\(process.processIdentifier)/stat", encoding: .utf8),
            let fields = stat.split(separator: ")").last?.split(separator: " "),
            fields.count > 12, let user = Int(fields[11]), let system = Int(fields[12])
        else { return .zero }
        // Fields 14 and 15 of the whole line: utime and stime, in clock ticks.
        return .milliseconds((user + system) * 1000 / sysconf(Int32(_SC_CLK_TCK)))
    }

    func stop() {
        process.terminate()
        process.waitUntilExit()
        if removeOnStop { try? FileManager.default.removeItem(atPath: directory) }
    }

    /// SIGKILL: no shutdown of any kind.
    func kill() {
        Foundation.kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }
}

struct BenchFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
