import Dispatch
import EventLog

#if canImport(Glibc)
    import Glibc
#endif

/// Lets a reader in another process than the writer's wait for the log's next commit without
/// polling it: no commit wake-up crosses processes, but every commit writes the data file, and
/// inotify reports that write. `chatlog log tail --follow` waits with it.
final class CommitWatcher: CommitFollower {
    private let storage: LMDBStorage
    /// An inotify descriptor watching the data file for writes; -1 where inotify is missing,
    /// and the watcher then checks every 20 ms instead.
    private let descriptor: Int32

    init(storage: LMDBStorage) {
        self.storage = storage
        var descriptor = inotify_init1(Int32(IN_CLOEXEC | IN_NONBLOCK))
        if descriptor >= 0,
            inotify_add_watch(descriptor, storage.environment.path + "/data.mdb", UInt32(IN_MODIFY)) < 0
        {
            close(descriptor)
            descriptor = -1
        }
        self.descriptor = descriptor
    }

    deinit {
        if descriptor >= 0 { close(descriptor) }
    }

    /// The id of the last commit a read sees now: it changes whenever any process commits to
    /// this log. (The meta page shows a commit a moment before reads see it: not that one.)
    func lastCommit() throws -> Int {
        try storage.reading { $0.id }
    }

    func next(after seen: Int, timeout: Duration) async throws -> Int {
        let deadline = ContinuousClock.now + timeout
        // A commit writes its pages, syncs, writes its meta page and only then shows itself to
        // readers: after a write, check every millisecond for a little while.
        var settling: ContinuousClock.Instant?
        while true {
            let current = try lastCommit()
            let now = ContinuousClock.now
            if current != seen || now >= deadline { return current }
            if let until = settling, now < until {
                try? await Task.sleep(for: .milliseconds(1))
            } else if descriptor >= 0 {
                settling = await waitForWrite(within: deadline - now) ? .now + .milliseconds(10) : nil
            } else {
                try? await Task.sleep(for: min(deadline - now, .milliseconds(20)))
            }
        }
    }

    /// Returns true once the data file was written since the last call, or false after
    /// `limit`. The blocking wait runs on a dispatch thread, never on the cooperative pool.
    private func waitForWrite(within limit: Duration) async -> Bool {
        let milliseconds = Int32(clamping: max(1, limit.nanoseconds / 1_000_000))
        let descriptor = descriptor
        return await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                var events = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
                guard poll(&events, 1, milliseconds) > 0 else { return continuation.resume(returning: false) }
                // Drain every queued event: one wake-up covers them all.
                var buffer = [UInt8](repeating: 0, count: 4096)
                while read(descriptor, &buffer, buffer.count) > 0 {}
                continuation.resume(returning: true)
            }
        }
    }
}
