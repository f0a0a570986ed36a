import ArgumentParser
import Chat
import ChatServer

struct TokenCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token",
        abstract: "Print a development JWT for a user; a server with the same configuration accepts it.",
        discussion:
            "Signed HS256 with jwt.secret, or with the secret the server generated in the data directory.")

    @OptionGroup var global: GlobalOptions
    @Option(help: "The user id (the token's sub).") var user: String
    @Option(help: "Lifetime in seconds.") var ttl: Int = 3600

    func validate() throws {
        guard ttl > 0 else { throw ValidationError("--ttl must be positive") }
        do {
            try ChatService.validateUserID(user, field: "--user")
        } catch {
            throw ValidationError("\(error)")
        }
    }

    func run() async throws {
        let settings = try await global.settings()
        let secret =
            try settings.server.auth.jwtSecret ?? DevelopmentSecret.load(directory: settings.dataDirectory)
        let authority = try await TokenAuthority(secret: secret)
        Console.out(try await authority.mint(user: user, ttl: .seconds(ttl)))
    }
}
