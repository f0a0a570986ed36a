/// Facts about the storage behind a log, for `chatlog log stats` and metrics.
public struct StorageStatistics: Sendable {
    public var mapSize: Int
    public var maxMapSize: Int
    public var usedBytes: Int
    public var fileSize: Int
    public var pageSize: Int
    public var readers: Int
    public var maxReaders: Int
    public var lastTransactionID: Int
    public var channels: Int
    public var channelIndexEntries: Int
    public var idempotencyKeys: Int
    public var checkpoints: Int
    public var durability: String

    package init(
        mapSize: Int, maxMapSize: Int, usedBytes: Int, fileSize: Int, pageSize: Int, readers: Int,
        maxReaders: Int, lastTransactionID: Int, channels: Int, channelIndexEntries: Int,
        idempotencyKeys: Int, checkpoints: Int, durability: String
    ) {
        self.mapSize = mapSize
        self.maxMapSize = maxMapSize
        self.usedBytes = usedBytes
        self.fileSize = fileSize
        self.pageSize = pageSize
        self.readers = readers
        self.maxReaders = maxReaders
        self.lastTransactionID = lastTransactionID
        self.channels = channels
        self.channelIndexEntries = channelIndexEntries
        self.idempotencyKeys = idempotencyKeys
        self.checkpoints = checkpoints
        self.durability = durability
    }
}
