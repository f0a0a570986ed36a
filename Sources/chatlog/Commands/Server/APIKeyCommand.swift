import ArgumentParser
import ChatServer

struct APIKeyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "apikey", abstract: "Manage service API keys (stored hashed in the data directory).",
        subcommands: [Create.self, List.self, Revoke.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a key and print it as the last line; it is shown only once.",
            discussion: """
                Each key also carries an AWS-style credential for the DynamoDB Streams API (SigV4; \
                it needs the streams:read scope). --json prints both as one object: id, name, scopes, \
                key, accessKeyId and secretAccessKey.
                """)
        @OptionGroup var global: GlobalOptions
        @OptionGroup var output: OutputOptions
        @Option(help: "A name to recognise the key by.") var name: String = "default"
        @Option(
            name: .customLong("scope"),
            help: ArgumentHelp(
                "What the key may do; repeat for several: events (the event inbox), admin (consumer "
                    + "groups and dead letters), streams:read (the stream read API).",
                valueName: "scope"))
        var scopes: [APIKeyScope] = [.events]

        func run() async throws {
            let settings = try await global.settings()
            let (key, secret, credential) = try APIKeyStore(directory: settings.dataDirectory).issue(
                name: name, scopes: Set(scopes))
            if output.json {
                Console.out(
                    JSONOutput.object([
                        ("id", .string(key.id)), ("name", .string(key.name)),
                        ("scopes", .array(key.granted.sorted().map { .string($0.rawValue) })),
                        ("key", .string(secret)), ("accessKeyId", .string(credential.accessKeyId)),
                        ("secretAccessKey", .string(credential.secretAccessKey)),
                    ]).text)
                return
            }
            Console.error(
                "created API key \(key.id) (\(key.name); scopes: \(key.granted.sorted().map(\.rawValue).joined(separator: ", "))); "
                    + "store it now, it is not shown again:")
            Console.error(
                "its DynamoDB Streams credential: access key id \(credential.accessKeyId), "
                    + "secret access key \(credential.secretAccessKey)")
            Console.out(secret)
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List keys (never their secrets).")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var output: OutputOptions

        func run() async throws {
            let settings = try await global.settings()
            let keys = try APIKeyStore(directory: settings.dataDirectory).keys()
            if output.json {
                Console.out(
                    JSONOutput.object([
                        (
                            "keys",
                            .array(
                                keys.map {
                                    .object([
                                        ("id", .string($0.id)), ("name", .string($0.name)),
                                        ("scopes", .array($0.granted.sorted().map { .string($0.rawValue) })),
                                        ("accessKeyId", .optional($0.accessKeyId)),
                                        ("createdAt", .string($0.createdAt)),
                                        ("revokedAt", .optional($0.revokedAt)),
                                    ])
                                })
                        )
                    ]).text)
            } else {
                var table = Table("ID", "NAME", "SCOPES", "ACCESS KEY ID", "CREATED", "REVOKED")
                for key in keys {
                    table.add(
                        key.id, key.name, key.granted.sorted().map(\.rawValue).joined(separator: ","),
                        key.accessKeyId ?? "-", key.createdAt, key.revokedAt ?? "-")
                }
                Console.out(table.text)
            }
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke a key by id; effective at once.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The key's id.") var id: String

        func run() async throws {
            let settings = try await global.settings()
            guard try APIKeyStore(directory: settings.dataDirectory).revoke(id: id) else {
                throw CommandFailure("no live API key with id \(id)")
            }
            Console.out("revoked \(id)")
        }
    }
}

extension APIKeyScope: ExpressibleByArgument {}
