import Foundation

/// Where a running server listens, kept in `server.json` (mode 0600) in its data directory while
/// it runs. The command line reads it to reach the server's admin API for the writes the
/// server's hold on the log keeps it from making itself (`consumers reset`, `consumers dlq
/// redrive`), and to ask what the server's consumer groups are doing.
public struct ServerAddress: Codable, Sendable, Equatable {
    public var pid: Int32
    public var host: String
    public var port: Int
    /// An API key that this server process alone accepts and that ends with it. Only the file's
    /// owner can read it, and the owner can create keys in the directory anyway.
    public var adminKey: String

    /// The host to connect to: a server listening on every interface is reached on loopback.
    public var connectHost: String {
        switch host {
        case "0.0.0.0", "": "127.0.0.1"
        case "::": "::1"
        default: host
        }
    }
}

public enum ServerAddressFile {
    static let name = "server.json"

    static func path(_ directory: String) -> String { directory + "/" + name }

    /// Records where this process listens; a file left by a killed server is replaced. The file
    /// is readable by its owner alone from the moment it exists, as it holds a key.
    static func write(host: String, port: Int, adminKey: String, directory: String) throws {
        let address = ServerAddress(pid: getpid(), host: host, port: port, adminKey: adminKey)
        try PrivateFile.write(try JSONEncoder().encode(address), to: path(directory))
    }

    /// The address a server recorded, if the file is there and readable.
    public static func read(directory: String) -> ServerAddress? {
        guard let data = FileManager.default.contents(atPath: path(directory)) else { return nil }
        return try? JSONDecoder().decode(ServerAddress.self, from: data)
    }

    /// Removes the file if this process wrote it.
    static func remove(directory: String) {
        guard read(directory: directory)?.pid == getpid() else { return }
        try? FileManager.default.removeItem(atPath: path(directory))
    }
}
