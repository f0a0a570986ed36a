/// What one record did to one item of a read model, as change-data-capture readers (the
/// DynamoDB Streams API) see it: the item's keys and its images before and after.
public struct ItemChange: Sendable, Equatable {
    public enum Kind: String, Sendable {
        case insert = "INSERT"
        case modify = "MODIFY"
        case remove = "REMOVE"
    }

    public typealias Image = [String: JSONValue]

    public var kind: Kind
    public var keys: Image
    /// The item before the record; nil for an insert, or when the log no longer holds what
    /// it was made from.
    public var oldImage: Image?
    /// The item after the record; nil for a remove.
    public var newImage: Image?

    public init(kind: Kind, keys: Image, oldImage: Image?, newImage: Image?) {
        self.kind = kind
        self.keys = keys
        self.oldImage = oldImage
        self.newImage = newImage
    }
}
