import Foundation

/// A plain TCP connection to a server on loopback, for tests that speak HTTP/1 by hand: bytes
/// no HTTP client would send, from a chosen source address. Blocking calls run on a thread of
/// their own, never on the cooperative pool the in-process server needs.
public final class RawConnection: @unchecked Sendable {
    // Safe: the descriptor is set once; each test uses a connection from one task at a time.
    private let descriptor: Int32

    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    /// Connects to `port` on 127.0.0.1 from `source` (any 127.x.y.z address works on Linux).
    public init(port: Int, source: String = "127.0.0.1") throws {
        descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw Failure(description: "socket() failed: \(errno)") }
        var local = sockaddr_in()
        local.sin_family = sa_family_t(AF_INET)
        local.sin_addr.s_addr = inet_addr(source)
        var remote = local
        remote.sin_addr.s_addr = inet_addr("127.0.0.1")
        remote.sin_port = in_port_t(UInt16(port).bigEndian)
        let bound = withUnsafePointer(to: &local) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        let connected = withUnsafePointer(to: &remote) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0, connected == 0 else {
            let error = errno
            Foundation.close(descriptor)
            throw Failure(description: "cannot connect from \(source): errno \(error)")
        }
    }

    deinit { Foundation.close(descriptor) }

    public func send(_ text: String) {
        send(Array(text.utf8))
    }

    public func send(_ bytes: [UInt8]) {
        _ = bytes.withUnsafeBytes {
            Foundation.send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL))
        }
    }

    /// One HTTP response (its head and a `Content-Length` body), leaving the connection open.
    public func readResponse(timeout: Duration) async throws -> String {
        try await read(timeout: timeout) { received in
            let text = String(decoding: received, as: UTF8.self)
            guard let end = text.range(of: "\r\n\r\n") else { return false }
            let length =
                text[..<end.lowerBound].split(separator: "\r\n")
                .first { $0.lowercased().hasPrefix("content-length:") }
                .flatMap { Int($0.split(separator: ":")[1].trimmingCharacters(in: .whitespaces)) } ?? 0
            return text.utf8.count - text[..<end.upperBound].utf8.count >= length
        }
    }

    /// Everything the server sends until it closes the connection; fails when it is still
    /// open after `timeout`.
    public func readToClose(timeout: Duration) async throws -> String {
        try await read(timeout: timeout) { _ in false }
    }

    /// Reads until `enough` says so or the server closes; fails after `timeout` otherwise.
    private func read(timeout: Duration, until enough: @escaping @Sendable ([UInt8]) -> Bool) async throws
        -> String
    {
        let descriptor = descriptor
        let seconds = Int(timeout.components.seconds)
        let result: Result<[UInt8], Failure> = await withCheckedContinuation { continuation in
            Thread {
                var limit = timeval(tv_sec: seconds, tv_usec: 0)
                setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
                var received: [UInt8] = []
                var buffer = [UInt8](repeating: 0, count: 65_536)
                while true {
                    let count = recv(descriptor, &buffer, buffer.count, 0)
                    if count < 0, errno == EAGAIN || errno == EWOULDBLOCK {
                        return continuation.resume(
                            returning: .failure(Failure(description: "still open after \(seconds) s")))
                    }
                    if count <= 0 { break }
                    received += buffer[..<count]
                    if enough(received) { break }
                }
                continuation.resume(returning: .success(received))
            }
            .start()
        }
        return String(decoding: try result.get(), as: UTF8.self)
    }
}
