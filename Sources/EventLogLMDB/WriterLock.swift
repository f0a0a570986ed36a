import EventLog

#if canImport(Glibc)
    import Glibc
#endif

/// An exclusive `flock` on a file beside the log, held while a process may write. The kernel
/// drops it when the process dies, so a crash never leaves it stale.
final class WriterLock: Sendable {
    private let descriptor: Int32

    init(path: String) throws {
        let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            throw EventLogError.storage("cannot open \(path): \(String(cString: strerror(errno)))")
        }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            close(descriptor)
            throw EventLogError.locked(
                "another process has this log open for writing (a running chatlog serve?); stop it first, "
                    + "or use read-only commands")
        }
        self.descriptor = descriptor
    }

    func release() {
        flock(descriptor, LOCK_UN)
        close(descriptor)
    }
}
