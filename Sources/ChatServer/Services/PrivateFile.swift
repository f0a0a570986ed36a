import Foundation

/// The data directory's files that hold secrets (`apikeys.json`, `jwt-secret`, `server.json`):
/// each is written whole under a temporary name, readable by its owner alone (mode 0600) from
/// the moment it exists, then moved into place, so no reader sees it half-written.
enum PrivateFile {
    /// Writes `data` to `path`, replacing what is there.
    static func write(_ data: Data, to path: String) throws {
        let temporary = try writeTemporary(data, beside: path)
        guard rename(temporary, path) == 0 else {
            let error = errno
            unlink(temporary)
            throw POSIXError(POSIXErrorCode(rawValue: error) ?? .EIO)
        }
    }

    /// Writes `data` to `path` unless a file is there already: of two processes creating it at
    /// once, the first one wins and the other leaves it alone.
    static func create(_ data: Data, at path: String) throws {
        let temporary = try writeTemporary(data, beside: path)
        defer { unlink(temporary) }
        guard link(temporary, path) == 0 || errno == EEXIST else {
            throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO)
        }
    }

    private static func writeTemporary(_ data: Data, beside path: String) throws -> String {
        // A name no other writer, in this process or another, uses at the same time.
        let temporary = path + ".tmp-\(UUID().uuidString)"
        let descriptor = open(temporary, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        let written = data.withUnsafeBytes { Foundation.write(descriptor, $0.baseAddress, $0.count) }
        let error = errno
        close(descriptor)
        guard written == data.count else {
            unlink(temporary)
            throw POSIXError(POSIXErrorCode(rawValue: written < 0 ? error : ENOSPC) ?? .EIO)
        }
        return temporary
    }
}
