import EventLog
import Foundation

/// Where the next page of a channel's history starts: an opaque token to clients.
struct HistoryCursor: Codable, Equatable {
    /// Towards newer messages (true) or older ones.
    var ascending: Bool
    /// The seq the next page starts after (ascending) or before (descending).
    var from: UInt64
    /// The other end the query was bounded by, exclusive.
    var bound: UInt64?

    var token: String {
        let text = "\(ascending ? "n" : "o").\(from).\(bound.map(String.init) ?? "")"
        // base64url without padding, mapped by hand: Foundation's replacingOccurrences showed in
        // every history page's profile.
        let base64 = Data(text.utf8).base64EncodedData()
        return String(
            decoding: base64.compactMap { byte -> UInt8? in
                switch byte {
                case UInt8(ascii: "+"): UInt8(ascii: "-")
                case UInt8(ascii: "/"): UInt8(ascii: "_")
                case UInt8(ascii: "="): nil
                default: byte
                }
            }, as: UTF8.self)
    }

    init(ascending: Bool, from: UInt64, bound: UInt64?) {
        self.ascending = ascending
        self.from = from
        self.bound = bound
    }

    init(token: String) throws {
        var base64 = token.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base64 += String(repeating: "=", count: (4 - base64.count % 4) % 4)
        guard token.utf8.count <= 64, let data = Data(base64Encoded: base64) else { throw Self.malformed }
        let parts = String(decoding: data, as: UTF8.self).split(
            separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0] == "n" || parts[0] == "o", let from = UInt64(parts[1]) else {
            throw Self.malformed
        }
        let bound = parts[2].isEmpty ? nil : UInt64(parts[2])
        guard parts[2].isEmpty || bound != nil else { throw Self.malformed }
        self.init(ascending: parts[0] == "n", from: from, bound: bound)
    }

    private static let malformed = ChatError.invalidRequest(
        "cursor is malformed", details: ["parameter": "cursor"])
}

/// A history request: `limit` (1…100), and `before`/`after` seqs or a `cursor`.
public struct HistoryQuery: Sendable, Equatable {
    public var limit: Int
    public var before: UInt64?
    public var after: UInt64?
    public var cursor: String?

    public init(limit: Int = 50, before: UInt64? = nil, after: UInt64? = nil, cursor: String? = nil) {
        self.limit = limit
        self.before = before
        self.after = after
        self.cursor = cursor
    }
}
