import Hummingbird
import Synchronization

/// The API's routes as templates (`/v1/channels/{channelId}`), as Hummingbird's router lists
/// them once every controller has registered: read for 405 answers and their metrics label.
final class RouteTable: Sendable {
    private let templates = Mutex<[(method: String, segments: [Substring])]>([])

    /// Takes the router's routes; call it after the last route is added.
    func fill(from router: Router<ChatRequestContext>) {
        let routes = router.routes.map { ($0.method.rawValue, Self.segments($0.path.description)) }
        templates.withLock { $0 = routes }
    }

    /// The template matching a concrete path.
    func template(for path: String) -> String? {
        matching(path).first.map { $0.segments.joined(separator: "/") }
    }

    /// The methods allowed on a concrete path.
    func methods(for path: String) -> [String] {
        matching(path).map(\.method)
    }

    private static func segments(_ path: some StringProtocol) -> [Substring] {
        Substring(path).split(separator: "/", omittingEmptySubsequences: false)
    }

    /// The templates the router would take for a concrete path: of those that match, the ones
    /// with a literal segment where another has a parameter win, level by level, as in the
    /// router's trie (`/v1/events/batch` is not `/v1/events/{eventId}`).
    private func matching(_ path: String) -> [(method: String, segments: [Substring])] {
        let parts = Self.segments(path)
        let matches = templates.withLock { $0 }.filter { _, template in
            template.count == parts.count && zip(template, parts).allSatisfy { $0.first == "{" || $0 == $1 }
        }
        func literals(_ template: [Substring]) -> [Int] { template.map { $0.first == "{" ? 0 : 1 } }
        guard let best = matches.map({ literals($0.segments) }).max(by: { $0.lexicographicallyPrecedes($1) })
        else { return [] }
        return matches.filter { literals($0.segments) == best }
    }
}
