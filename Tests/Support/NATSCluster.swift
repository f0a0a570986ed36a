import Foundation
import NATS
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// A real NATS JetStream cluster of three `nats-server` processes on loopback ports, in a
/// temporary directory. Each server runs under a small shell watchdog that kills it and removes
/// its files when the test process ends, however it ends: no server outlives its tests.
public final class NATSCluster: Sendable {
    public let urls: [String]
    private let directory: String
    private let configs: [String]

    /// The cluster the tests of one process share; each test uses streams of its own prefix.
    public static func shared() async throws -> NATSCluster {
        try await SharedCluster.instance.get()
    }

    /// Starts a cluster of its own (for tests that kill its servers); `stop()` ends it.
    public static func start(servers: Int = 3) async throws -> NATSCluster {
        let cluster = try NATSCluster(servers: servers)
        try await cluster.waitUntilReady()
        return cluster
    }

    private init(servers: Int) throws {
        guard FileManager.default.isExecutableFile(atPath: Self.serverBinary) else {
            throw ClusterError("nats-server is not installed (apt-get install nats-server)")
        }
        directory = NSTemporaryDirectory() + "chatlog-nats-" + UUID().uuidString.lowercased()
        let clientPorts = try (0..<servers).map { _ in try freePort() }
        let routePorts = try (0..<servers).map { _ in try freePort() }
        urls = clientPorts.map { "nats://127.0.0.1:\($0)" }
        let routes = routePorts.map { "nats-route://127.0.0.1:\($0)" }.joined(separator: ", ")
        var configs: [String] = []
        for index in 0..<servers {
            let node = "\(directory)/n\(index)"
            try FileManager.default.createDirectory(atPath: node, withIntermediateDirectories: true)
            let config = """
                server_name: n\(index)
                listen: 127.0.0.1:\(clientPorts[index])
                jetstream { store_dir: "\(node)/store" }
                cluster { name: chatlog-test, listen: 127.0.0.1:\(routePorts[index]), routes: [\(routes)] }
                """
            try config.write(toFile: node + "/server.conf", atomically: true, encoding: .utf8)
            configs.append(node)
        }
        self.configs = configs
        for index in 0..<servers { try launch(index) }
    }

    private static let serverBinary =
        ["/usr/sbin/nats-server", "/usr/bin/nats-server", "/usr/local/bin/nats-server"]
        .first { FileManager.default.isExecutableFile(atPath: $0) } ?? "/usr/sbin/nats-server"

    /// Starts server `index` under its watchdog: the watchdog ends with the test process or
    /// with the server, and then kills the server and removes the node's directory only when
    /// the test process is gone.
    private func launch(_ index: Int) throws {
        let node = configs[index]
        let script = """
            "$1" -c "$2/server.conf" >"$2/server.log" 2>&1 &
            server=$!
            echo $server >"$2/pid"
            while kill -0 $PPID 2>/dev/null && kill -0 $server 2>/dev/null; do sleep 0.2; done
            if ! kill -0 $PPID 2>/dev/null; then kill -9 $server 2>/dev/null; sleep 0.2; rm -rf "$2"; rmdir "$3" 2>/dev/null; fi
            """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", script, "sh", Self.serverBinary, node, directory]
        // Holding the test process's output open would keep `swift test` waiting for its end,
        // while the watchdog waits for the test process to be reaped.
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try? FileManager.default.removeItem(atPath: node + "/pid")
        try process.run()
        let deadline = ContinuousClock.now + .seconds(10)
        while !FileManager.default.fileExists(atPath: node + "/pid") {
            guard ContinuousClock.now < deadline else {
                throw ClusterError("nats-server n\(index) did not start")
            }
            usleep(10_000)
        }
    }

    private func pid(_ index: Int) -> pid_t? {
        (try? String(contentsOfFile: configs[index] + "/pid", encoding: .utf8))
            .flatMap { pid_t($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
    }

    /// SIGKILLs server `index`.
    public func kill(_ index: Int) {
        if let pid = pid(index) { _ = Glibc.kill(pid, SIGKILL) }
    }

    /// Starts server `index` again, with the files it had.
    public func restart(_ index: Int) throws {
        try launch(index)
    }

    /// Kills every server and removes the cluster's files.
    public func stop() {
        for index in configs.indices { kill(index) }
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// Waits until the cluster has elected its JetStream leader and can place a stream on
    /// every server.
    private func waitUntilReady() async throws {
        let deadline = ContinuousClock.now + .seconds(60)
        var lastError: (any Error)?
        while ContinuousClock.now < deadline {
            do {
                let connection = try NATSConnection(servers: urls, name: "probe", timeout: .seconds(2))
                defer { connection.close() }
                let probe = "probe_" + UUID().uuidString.prefix(8)
                try connection.ensureStream(
                    StreamSpec(
                        name: probe, subjects: [probe + ".>"], replicas: configs.count,
                        duplicateWindow: .seconds(60)))
                try connection.deleteStream(probe)
                return
            } catch {
                lastError = error
                try await Task.sleep(for: .milliseconds(250))
            }
        }
        throw ClusterError("the NATS cluster did not become ready: \(lastError.map { "\($0)" } ?? "")")
    }
}

private actor SharedCluster {
    static let instance = SharedCluster()
    private var cluster: Task<NATSCluster, any Error>?

    func get() async throws -> NATSCluster {
        if let cluster { return try await cluster.value }
        let task = Task { try await NATSCluster.start() }
        cluster = task
        return try await task.value
    }
}

struct ClusterError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// A loopback TCP port nothing listens on now.
func freePort() throws -> Int {
    let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard socket >= 0 else { throw ClusterError("socket() failed") }
    defer { close(socket) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            bind(socket, $0, length) == 0 && getsockname(socket, $0, &length) == 0
        }
    }
    guard bound else { throw ClusterError("bind() failed") }
    return Int(UInt16(bigEndian: address.sin_port))
}
