import Synchronization

/// The API's routes as templates (`/v1/channels/{channelId}`), filled as controllers register,
/// and read for 405 answers (and their metrics label) and the OpenAPI check.
public final class RouteTable: Sendable {
    public struct Route: Sendable, Hashable {
        public var method: String
        public var path: String
        /// The path's segments, split once.
        var segments: [Substring] { path.split(separator: "/", omittingEmptySubsequences: false) }
    }

    private let entries = Mutex<[Route]>([])

    public init() {}

    public var routes: [Route] { entries.withLock { $0 } }

    func add(_ method: String, _ path: String) {
        entries.withLock { $0.append(Route(method: method, path: path)) }
    }

    private let split = Mutex<[(Route, [Substring])]>([])

    /// The template matching a concrete path.
    func template(for path: String) -> String? {
        matching(path).first?.path
    }

    /// The methods allowed on a concrete path.
    func methods(for path: String) -> [String] {
        matching(path).map(\.method)
    }

    private func matching(_ path: String) -> [Route] {
        let pathParts = path.split(separator: "/", omittingEmptySubsequences: false)
        let templates = split.withLock { split in
            if split.count != routes.count { split = routes.map { ($0, $0.segments) } }
            return split
        }
        return templates.filter { _, parts in
            parts.count == pathParts.count && zip(parts, pathParts).allSatisfy { $0.first == "{" || $0 == $1 }
        }.map(\.0)
    }
}
