import CLMDB
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// An LMDB environment: one memory-mapped data file holding named databases.
///
/// All access goes through synchronous transaction closures, because an LMDB write
/// transaction belongs to the thread that began it and must never span an `await`.
public final class Environment: @unchecked Sendable {
    // Safe: MDB_env is thread-safe for concurrent transactions when opened with MDB_NOTLS,
    // the handle is immutable after init, and map resizes are serialised by `gate`.
    private let handle: OpaquePointer
    private let gate = ReadWriteGate()
    // Guarded by `gate`: read under shared, written under exclusive.
    private var isClosed = false
    /// Read transactions kept reset between reads, so that a read renews one instead of
    /// allocating (and zeroing) a transaction sized for every possible database and taking a
    /// reader slot under LMDB's lock.
    private let idleReaders = Mutex<[ReadHandle]>([])
    private static let maxIdleReaders = 32

    /// The directory holding `data.mdb` and `lock.mdb`.
    public let path: String
    /// Whether the environment was opened read-only.
    public let isReadOnly: Bool

    /// Settings for opening an environment.
    public struct Options: Sendable {
        /// The initial map size in bytes; it is rounded up by LMDB to a page multiple.
        public var mapSize: Int = 64 << 20
        /// The most named databases the environment can hold.
        public var maxDatabases: UInt32 = 64
        /// The most concurrent read transactions across all processes.
        public var maxReaders: UInt32 = 510
        /// Open for reading only; another process may be writing.
        public var readOnly = false
        /// Sync to disk on every commit. When false, call `sync()` periodically.
        public var syncOnCommit = true
        /// With `syncOnCommit`, also sync the meta page that makes a commit current (a second
        /// sync). When false (MDB_NOMETASYNC) a commit is durable only once the next commit's
        /// data sync or a `sync()` has run; a crash before that undoes it whole, never more.
        public var syncMetaOnCommit = true

        public init() {}
    }

    /// Opens (creating if needed, unless read-only) the environment in `path`, which must exist.
    public init(path: String, options: Options = Options()) throws(LMDBError) {
        var env: OpaquePointer?
        try check(mdb_env_create(&env))
        guard let env else { throw LMDBError(code: 12 /* ENOMEM */) }
        do {
            try check(mdb_env_set_maxdbs(env, options.maxDatabases))
            try check(mdb_env_set_maxreaders(env, options.maxReaders))
            try check(mdb_env_set_mapsize(env, options.mapSize))
            var flags = UInt32(MDB_NOTLS)
            if options.readOnly { flags |= UInt32(MDB_RDONLY) }
            if !options.syncOnCommit { flags |= UInt32(MDB_NOSYNC) }
            if !options.syncMetaOnCommit { flags |= UInt32(MDB_NOMETASYNC) }
            // Owner-only: the records are private conversations.
            try check(mdb_env_open(env, path, flags, 0o600))
        } catch {
            mdb_env_close(env)
            throw error
        }
        self.handle = env
        self.path = path
        self.isReadOnly = options.readOnly
        var dead: Int32 = 0
        mdb_reader_check(env, &dead)
    }

    deinit {
        if !isClosed {
            abortIdleReaders()
            mdb_env_close(handle)
        }
    }

    /// Closes the environment once no transaction of this process is active; later
    /// transactions throw `LMDBError.closed`.
    public func close() {
        gate.exclusive {
            if !isClosed {
                isClosed = true
                abortIdleReaders()
                mdb_env_close(handle)
            }
        }
    }

    private func abortIdleReaders() {
        idleReaders.withLock { idle in
            for reader in idle { mdb_txn_abort(reader.handle) }
            idle.removeAll()
        }
    }

    /// Runs `body` in a read-only transaction that sees one consistent snapshot.
    public func read<R>(_ body: (Transaction) throws -> R) throws -> R {
        while true {
            let outcome: R? = try gate.shared {
                guard !isClosed else { throw LMDBError.closed }
                let reader: ReadHandle
                if let idle = renewIdleReader() {
                    reader = idle
                } else if let txn = try begin(flags: UInt32(MDB_RDONLY)) {
                    reader = ReadHandle(handle: txn)
                } else {
                    return nil
                }
                let result: R
                do {
                    result = try body(Transaction(handle: reader.handle, isReadOnly: true, reader: reader))
                } catch {
                    if reader.openedDatabase { mdb_txn_abort(reader.handle) } else { keepIdle(reader) }
                    throw error
                }
                if reader.openedDatabase {
                    // Committing is what keeps database handles opened inside a read
                    // transaction for the environment's lifetime; it frees the transaction.
                    try check(mdb_txn_commit(reader.handle))
                } else {
                    keepIdle(reader)
                }
                return result
            }
            if let outcome { return outcome }
            try adoptMapSizeOfOtherProcess()
        }
    }

    /// An idle read transaction renewed onto the latest snapshot; nil when none is idle or it
    /// cannot be renewed (a fresh one then reports why, or that the map grew).
    private func renewIdleReader() -> ReadHandle? {
        guard let reader = idleReaders.withLock({ $0.popLast() }) else { return nil }
        guard mdb_txn_renew(reader.handle) == MDB_SUCCESS else {
            mdb_txn_abort(reader.handle)
            return nil
        }
        return reader
    }

    private func keepIdle(_ reader: ReadHandle) {
        mdb_txn_reset(reader.handle)
        let kept = idleReaders.withLock { idle in
            guard idle.count < Self.maxIdleReaders else { return false }
            idle.append(reader)
            return true
        }
        if !kept { mdb_txn_abort(reader.handle) }
    }

    /// Begins a transaction; nil when another process grew the map (adopt its size and retry).
    private func begin(flags: UInt32) throws(LMDBError) -> OpaquePointer? {
        var txn: OpaquePointer?
        let rc = mdb_txn_begin(handle, nil, flags, &txn)
        if rc == MDB_MAP_RESIZED { return nil }
        try check(rc)
        guard let txn else { throw LMDBError(code: 12 /* ENOMEM */) }
        return txn
    }

    /// Runs `body` in a write transaction and commits it; a thrown error aborts it.
    ///
    /// LMDB allows one writer at a time: this blocks while another writer (of this or another
    /// process) holds the write lock, so call it from a thread that may block.
    public func write<R>(_ body: (Transaction) throws -> R) throws -> R {
        while true {
            let outcome: R? = try gate.shared {
                guard !isClosed else { throw LMDBError.closed }
                guard let txn = try begin(flags: 0) else { return nil }
                let result: R
                do {
                    result = try body(Transaction(handle: txn, isReadOnly: false))
                } catch {
                    mdb_txn_abort(txn)
                    throw error
                }
                try check(mdb_txn_commit(txn))
                return result
            }
            if let outcome { return outcome }
            try adoptMapSizeOfOtherProcess()
        }
    }

    private func adoptMapSizeOfOtherProcess() throws(LMDBError) {
        try gate.exclusive { () throws(LMDBError) in
            try check(mdb_env_set_mapsize(handle, 0))
        }
    }

    /// The current map size in bytes.
    public var mapSize: Int {
        info.mapSize
    }

    /// The descriptor LMDB writes and syncs the data file through (for fault-injection tests).
    public var fileDescriptor: Int32 {
        var descriptor: Int32 = -1
        mdb_env_get_fd(handle, &descriptor)
        return descriptor
    }

    /// The size of the data file on disk.
    public var fileSize: Int {
        let file = fopen(path + "/data.mdb", "rb")
        guard let file else { return 0 }
        defer { fclose(file) }
        fseeko(file, 0, SEEK_END)
        return Int(ftello(file))
    }

    /// Grows (or shrinks) the map. Waits until no transaction of this process is active.
    public func setMapSize(_ bytes: Int) throws(LMDBError) {
        try gate.exclusive { () throws(LMDBError) in
            guard !isClosed else { throw LMDBError.closed }
            try check(mdb_env_set_mapsize(handle, bytes))
        }
    }

    /// Flushes buffered commits to disk (needed only when `syncOnCommit` or `syncMetaOnCommit`
    /// is false).
    public func sync() throws(LMDBError) {
        try gate.shared { () throws(LMDBError) in
            guard !isClosed else { throw LMDBError.closed }
            try check(mdb_env_sync(handle, 1))
        }
    }

    /// Writes a consistent copy of the environment into the existing, empty directory `path`.
    /// With `compact`, free pages are omitted and the copy is renumbered.
    public func copy(to path: String, compact: Bool) throws(LMDBError) {
        try gate.shared { () throws(LMDBError) in
            guard !isClosed else { throw LMDBError.closed }
            try check(mdb_env_copy2(handle, path, compact ? UInt32(MDB_CP_COMPACT) : 0))
        }
    }

    /// Facts about the environment's map and readers.
    public struct Info: Sendable {
        public var mapSize: Int
        public var pageSize: Int
        public var lastPageNumber: Int
        public var lastTransactionID: Int
        public var maxReaders: Int
        public var readers: Int
        /// Bytes of the map in use: pages up to the last one written.
        public var usedBytes: Int { (lastPageNumber + 1) * pageSize }
    }

    public var info: Info {
        gate.shared { unsafeInfo }
    }

    private var unsafeInfo: Info {
        var envInfo = MDB_envinfo()
        mdb_env_info(handle, &envInfo)
        var stat = MDB_stat()
        mdb_env_stat(handle, &stat)
        return Info(
            mapSize: envInfo.me_mapsize,
            pageSize: Int(stat.ms_psize),
            lastPageNumber: envInfo.me_last_pgno,
            lastTransactionID: envInfo.me_last_txnid,
            maxReaders: Int(envInfo.me_maxreaders),
            readers: Int(envInfo.me_numreaders)
        )
    }
}

/// A read transaction handle that outlives one read: kept reset between reads, it holds its
/// reader slot but no snapshot. Used by one read at a time.
final class ReadHandle: @unchecked Sendable {
    // Safe: the pool hands a handle to one read at a time, and only that read touches it.
    let handle: OpaquePointer
    /// Set when a database was opened in the current read: it must then commit, not reset.
    var openedDatabase = false

    init(handle: OpaquePointer) {
        self.handle = handle
    }
}
