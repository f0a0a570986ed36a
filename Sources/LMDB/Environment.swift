import CLMDB

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
            try check(mdb_env_open(env, path, flags, 0o644))
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
        if !isClosed { mdb_env_close(handle) }
    }

    /// Closes the environment once no transaction of this process is active; later
    /// transactions throw `LMDBError.closed`.
    public func close() {
        gate.exclusive {
            if !isClosed {
                isClosed = true
                mdb_env_close(handle)
            }
        }
    }

    /// Runs `body` in a read-only transaction that sees one consistent snapshot.
    public func read<R>(_ body: (Transaction) throws -> R) throws -> R {
        try run(flags: UInt32(MDB_RDONLY), body)
    }

    /// Runs `body` in a write transaction and commits it; a thrown error aborts it.
    ///
    /// LMDB allows one writer at a time: this blocks while another writer (of this or another
    /// process) holds the write lock, so call it from a thread that may block.
    public func write<R>(_ body: (Transaction) throws -> R) throws -> R {
        try run(flags: 0, body)
    }

    private func run<R>(flags: UInt32, _ body: (Transaction) throws -> R) throws -> R {
        while true {
            let outcome: R? = try gate.shared {
                guard !isClosed else { throw LMDBError.closed }
                var txn: OpaquePointer?
                let rc = mdb_txn_begin(handle, nil, flags, &txn)
                if rc == MDB_MAP_RESIZED { return nil }
                try check(rc)
                guard let txn else { throw LMDBError(code: 12) }
                let transaction = Transaction(handle: txn, isReadOnly: flags != 0)
                let result: R
                do {
                    result = try body(transaction)
                } catch {
                    mdb_txn_abort(txn)
                    throw error
                }
                // Read-only transactions commit too: that is what keeps database handles
                // opened inside them for the environment's lifetime.
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

    /// Flushes buffered commits to disk (needed only when `syncOnCommit` is false).
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
