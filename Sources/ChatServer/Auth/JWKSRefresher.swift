import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import ServiceLifecycle

/// Where an identity provider publishes the keys its tokens are signed with: a JWKS document in
/// a file or at a URL, read at start and again every `refresh`, so that keys it rotates in are
/// accepted and keys it retires are refused.
public struct JWKSConfiguration: Sendable {
    public enum Source: Sendable, CustomStringConvertible {
        case file(String)
        case url(String)

        public var description: String {
            switch self {
            case .file(let path): path
            case .url(let url): url
            }
        }
    }

    public var source: Source
    public var refresh: Duration = .seconds(300)

    public init(source: Source, refresh: Duration = .seconds(300)) {
        self.source = source
        self.refresh = refresh
    }
}

/// Reads the JWKS document into the token authority: once before the server starts (a document
/// that cannot be read or used stops the start), then every `refresh` while it runs (a failed
/// read keeps the keys it had, and says so).
public struct JWKSRefresher: Service {
    let authority: TokenAuthority
    let configuration: JWKSConfiguration
    let logger: Logger

    /// Reads the document and hands it to the authority; returns how many keys it holds.
    @discardableResult
    public func load() async throws -> Int {
        let document: String
        switch configuration.source {
        case .file(let path):
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                throw AuthSetupError("cannot read the JWKS file \(path)")
            }
            document = text
        case .url(let url):
            document = try await Self.fetch(url)
        }
        return try await authority.useKeySet(document)
    }

    private static func fetch(_ url: String) async throws -> String {
        let response: HTTPClientResponse
        do {
            response = try await HTTPClient.shared.execute(HTTPClientRequest(url: url), timeout: .seconds(10))
        } catch {
            throw AuthSetupError("cannot fetch the JWKS document from \(url): \(error)")
        }
        guard response.status == .ok else {
            throw AuthSetupError("the JWKS URL \(url) answered \(response.status.code)")
        }
        return String(buffer: try await response.body.collect(upTo: 1 << 20))
    }

    public func run() async throws {
        while !Task.isShuttingDownGracefully {
            do {
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: configuration.refresh) }
            } catch {
                return  // Shutting down or cancelled.
            }
            do {
                let count = try await load()
                logger.debug(
                    "JWKS read", metadata: ["keys": "\(count)", "source": "\(configuration.source)"])
            } catch {
                logger.warning(
                    "JWKS not refreshed; the keys read before stay in use",
                    metadata: ["source": "\(configuration.source)", "error": "\(error)"])
            }
        }
    }
}
