import CNATS

/// A JetStream key-value bucket: a replicated map from keys (`[-/_=.a-zA-Z0-9]+`) to bytes,
/// keeping each key's latest value.
///
/// Its calls block until the servers answer; any thread may use it.
public final class KeyValueBucket: @unchecked Sendable {
    // Safe: the C client's key-value calls are thread-safe, and the pointer is immutable
    // until `deinit`.
    private let store: OpaquePointer
    /// Keeps the connection (and its JetStream context) alive as long as the bucket.
    private let owner: NATSConnection
    public let name: String

    init(store: OpaquePointer, name: String, owner: NATSConnection) {
        self.store = store
        self.name = name
        self.owner = owner
    }

    deinit {
        kvStore_Destroy(store)
    }

    /// Stores `value` as the key's value.
    public func put(_ key: String, _ value: [UInt8]) throws(NATSError) {
        var revision: UInt64 = 0
        let status = value.withUnsafeBytes { bytes in
            kvStore_Put(&revision, store, key, bytes.baseAddress, Int32(bytes.count))
        }
        try check(status)
    }

    /// The key's value, or nil when it has none.
    public func value(_ key: String) throws(NATSError) -> [UInt8]? {
        var entry: OpaquePointer?
        let status = kvStore_Get(&entry, store, key)
        if status == NATS_NOT_FOUND { return nil }
        try check(status)
        defer { kvEntry_Destroy(entry) }
        guard let bytes = kvEntry_Value(entry) else { return [] }
        return Array(UnsafeRawBufferPointer(start: bytes, count: Int(kvEntry_ValueLen(entry))))
    }

    /// Removes the key and its history; false when it had no value.
    @discardableResult
    public func remove(_ key: String) throws(NATSError) -> Bool {
        guard try value(key) != nil else { return false }
        try check(kvStore_Purge(store, key, nil))
        return true
    }

    /// Every key with a value, in no particular order.
    public func keys() throws(NATSError) -> [String] {
        var list = kvKeysList()
        var options = kvWatchOptions()
        kvWatchOptions_Init(&options)
        options.Timeout = owner.timeout.milliseconds
        let status = kvStore_Keys(&list, store, &options)
        if status == NATS_NOT_FOUND { return [] }
        try check(status)
        defer { kvKeysList_Destroy(&list) }
        return (0..<Int(list.Count)).compactMap { index in list.Keys[index].map { String(cString: $0) } }
    }
}

extension NATSConnection {
    /// Opens the bucket, or nil when it does not exist.
    public func keyValue(_ bucket: String) throws(NATSError) -> KeyValueBucket? {
        var store: OpaquePointer?
        let status = js_KeyValue(&store, jetStream, bucket)
        if status == NATS_NOT_FOUND { return nil }
        try check(status)
        guard let store else { throw NATSError(status: NATS_ERR) }
        return KeyValueBucket(store: store, name: bucket, owner: self)
    }

    /// Makes the bucket with `replicas` copies, keeping one value per key, unless it exists;
    /// returns whether it made it.
    @discardableResult
    public func ensureKeyValue(_ bucket: String, replicas: Int) throws(NATSError) -> Bool {
        if try keyValue(bucket) != nil { return false }
        var config = kvConfig()
        kvConfig_Init(&config)
        var store: OpaquePointer?
        let status = bucket.withCString { name in
            config.Bucket = name
            config.History = 1
            config.Replicas = Int32(replicas)
            return js_CreateKeyValue(&store, jetStream, &config)
        }
        try check(status)
        kvStore_Destroy(store)
        return true
    }
}
