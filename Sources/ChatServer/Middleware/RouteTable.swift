import Synchronization

/// The API's routes as templates (`/v1/channels/{channelId}`), filled as controllers register,
/// and read for 405 answers, metrics labels and the OpenAPI check.
public final class RouteTable: Sendable {
    public struct Route: Sendable, Hashable {
        public var method: String
        public var path: String
    }

    private let entries = Mutex<[Route]>([])

    public init() {}

    public var routes: [Route] { entries.withLock { $0 } }

    func add(_ method: String, _ path: String) {
        entries.withLock { $0.append(Route(method: method, path: path)) }
    }

    /// The template matching a concrete path.
    func template(for path: String) -> String? {
        routes.first { Self.matches($0.path, path) }?.path
    }

    /// The methods allowed on a concrete path.
    func methods(for path: String) -> [String] {
        routes.filter { Self.matches($0.path, path) }.map(\.method)
    }

    private static func matches(_ template: String, _ path: String) -> Bool {
        let templateParts = template.split(separator: "/", omittingEmptySubsequences: false)
        let pathParts = path.split(separator: "/", omittingEmptySubsequences: false)
        guard templateParts.count == pathParts.count else { return false }
        return zip(templateParts, pathParts).allSatisfy { $0.hasPrefix("{") || $0 == $1 }
    }
}
