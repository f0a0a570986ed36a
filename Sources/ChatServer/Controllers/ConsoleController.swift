import Chat
import Foundation
import HTTPTypes
import Hummingbird
import JSONCoding
import NIOCore

/// The web console: static HTML, CSS and JavaScript installed with the binary (the
/// `Console` resources), served at `/console` under a strict Content-Security-Policy, and with
/// `serve --dev` a token for any user name at `POST /v1/dev/token`.
struct ConsoleController {
    /// The files, read once: name → (content type, bytes).
    static let files: [String: (type: String, body: ByteBuffer)] = {
        let types = [
            "index.html": "text/html; charset=utf-8", "app.js": "text/javascript; charset=utf-8",
            "common.js": "text/javascript; charset=utf-8", "ops.js": "text/javascript; charset=utf-8",
            "console.css": "text/css; charset=utf-8",
        ]
        var files: [String: (String, ByteBuffer)] = [:]
        for (name, type) in types {
            guard let url = Bundle.module.url(forResource: name, withExtension: nil, subdirectory: "Console"),
                let data = try? Data(contentsOf: url)
            else { continue }
            files[name] = (type, ByteBuffer(bytes: data))
        }
        return files
    }()

    /// Scripts, styles, fetches and sockets from this server only; nothing inline, nothing
    /// from anywhere else, no framing.
    static let policy =
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; "
        + "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

    let dev: Bool
    let authority: TokenAuthority

    func addRoutes(to router: Router<ChatRequestContext>) {
        router.get("/") { _, _ in Self.redirect() }
        router.get("console") { _, _ in try Self.file("index.html") }
        router.get("console/{file}") { _, context in
            let name = try context.parameters.require("file")
            guard name == "config.json" else { return try Self.file(name) }
            return Self.response(
                "application/json", body: ByteBuffer(bytes: JSONValue.object(["dev": .bool(dev)]).bytes))
        }
    }

    /// `POST /v1/dev/token {"userId"}` → `{"token"}`, valid 12 hours: only with `serve --dev`.
    func addDevelopmentRoutes(to router: Router<ChatRequestContext>) {
        guard dev else { return }
        router.post("v1/dev/token") { request, context in
            let (body, _) = try await JSONBody.object(
                from: request, context: context, allowedFields: ["userId"])
            let user = try body.string("userId")
            try ChatService.validateUserID(user, field: "userId")
            let token = try await authority.mint(user: user, ttl: .seconds(12 * 3600))
            return Self.response(
                "application/json", body: ByteBuffer(bytes: JSONValue.object(["token": .string(token)]).bytes)
            )
        }
    }

    private static func redirect() -> Response {
        Response(status: .found, headers: [.location: "/console"])
    }

    private static func file(_ name: String) throws -> Response {
        guard let file = files[name] else { throw APIError.notFound("no console file \(name)") }
        return response(file.type, body: file.body)
    }

    private static func response(_ type: String, body: ByteBuffer) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = type
        headers[.contentSecurityPolicy] = policy
        headers[HTTPField.Name("X-Content-Type-Options")!] = "nosniff"
        headers[HTTPField.Name("Referrer-Policy")!] = "no-referrer"
        headers[.cacheControl] = "no-cache"
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: body))
    }
}
