import Crypto
import Foundation

/// A request as it arrived, for checking its AWS Signature Version 4: the method, the path
/// and query exactly as sent, every header as sent, and the body's bytes.
public struct SignedRequest: Sendable {
    public var method: String
    public var path: String
    public var query: String
    /// Names in any case; a name may repeat.
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]

    public init(
        method: String, path: String, query: String, headers: [(name: String, value: String)], body: [UInt8]
    ) {
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
        self.body = body
    }

    func values(_ name: String) -> [String] {
        headers.filter { $0.name.lowercased() == name }.map(\.value)
    }
}

/// Why a request's signature was refused, as AWS names it.
public enum SigV4Failure: Error, Equatable, Sendable {
    /// No `Authorization` header.
    case missingAuthentication
    /// An `Authorization` header that is not a complete SigV4 one.
    case incompleteSignature(String)
    /// An access key id that names no live credential.
    case unrecognizedClient
    /// A signature that does not match, a wrong scope, or a stale date.
    case invalidSignature(String)

    /// AWS's error type name.
    public var type: String {
        switch self {
        case .missingAuthentication: "MissingAuthenticationTokenException"
        case .incompleteSignature: "IncompleteSignatureException"
        case .unrecognizedClient: "UnrecognizedClientException"
        case .invalidSignature: "InvalidSignatureException"
        }
    }

    public var message: String {
        switch self {
        case .missingAuthentication: "Request is missing Authentication Token"
        case .incompleteSignature(let reason): reason
        case .unrecognizedClient: "The security token included in the request is invalid."
        case .invalidSignature(let reason): reason
        }
    }
}

/// Checks AWS Signature Version 4 (`AWS4-HMAC-SHA256` in the `Authorization` header) over the
/// exact bytes of a request, with AWS's canonical request, for one service in any region.
public struct SigV4Verifier: Sendable {
    /// The credential scope's service every request must name.
    public var service: String
    /// How far the request's date may be from the server's clock, either way.
    public var maxClockSkew: TimeInterval = 15 * 60

    public init(service: String) {
        self.service = service
    }

    static let algorithm = "AWS4-HMAC-SHA256"

    /// The parts of an `Authorization` header.
    struct Authorization {
        var accessKeyID: String
        var date: String
        var region: String
        var service: String
        var signedHeaders: [String]
        var signature: String

        var scope: String { "\(date)/\(region)/\(service)/aws4_request" }
    }

    /// Who signed a request, and for which region.
    public struct Signer: Sendable, Equatable {
        public var accessKeyID: String
        public var region: String
    }

    /// Returns who signed the request, once the signature is checked with the secret
    /// `secret(accessKeyID)` gives (nil: no such live credential).
    public func verify(
        _ request: SignedRequest, now: Date = Date(), secret: (String) throws -> String?
    ) throws -> Signer {
        guard let header = request.values("authorization").first else {
            throw SigV4Failure.missingAuthentication
        }
        let authorization = try Self.parse(header)
        guard let amzDate = request.values("x-amz-date").first else {
            throw SigV4Failure.incompleteSignature(
                "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.")
        }
        guard let date = Self.parseDate(amzDate) else {
            throw SigV4Failure.incompleteSignature(
                "Invalid X-Amz-Date '\(amzDate)': expected yyyyMMdd'T'HHmmss'Z'")
        }
        guard authorization.service == service else {
            throw SigV4Failure.invalidSignature(
                "Credential should be scoped to correct service: '\(service)'. ")
        }
        guard amzDate.hasPrefix(authorization.date) else {
            throw SigV4Failure.invalidSignature(
                "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: "
                    + "'\(authorization.date)' != '\(amzDate.prefix(8))', from '\(amzDate)'.")
        }
        for required in ["host", "x-amz-date"] where !authorization.signedHeaders.contains(required) {
            throw SigV4Failure.invalidSignature("'\(required)' must be a signed header.")
        }
        if abs(date.timeIntervalSince(now)) > maxClockSkew {
            throw SigV4Failure.invalidSignature(
                "Signature expired: \(amzDate) is now earlier than \(Self.format(now.addingTimeInterval(-maxClockSkew))) "
                    + "(\(Self.format(now)) - 15 min.)")
        }
        guard let key = try secret(authorization.accessKeyID) else { throw SigV4Failure.unrecognizedClient }
        let expected = Self.signature(
            request, authorization: authorization, amzDate: amzDate, secretAccessKey: key)
        guard Self.constantTimeEquals(expected, authorization.signature.lowercased()) else {
            throw SigV4Failure.invalidSignature(
                "The request signature we calculated does not match the signature you provided. Check your AWS "
                    + "Secret Access Key and signing method. Consult the service documentation for details.")
        }
        return Signer(accessKeyID: authorization.accessKeyID, region: authorization.region)
    }

    /// `AWS4-HMAC-SHA256 Credential=AKID/20261205/us-east-1/dynamodb/aws4_request,
    /// SignedHeaders=host;x-amz-date, Signature=hex`
    static func parse(_ header: String) throws -> Authorization {
        let trimmed = header.trimmingCharacters(in: .whitespaces)
        guard trimmed.hasPrefix(algorithm + " ") else {
            throw SigV4Failure.incompleteSignature(
                "Authorization header requires '\(algorithm)' as its algorithm. Authorization=\(header)")
        }
        var fields: [String: String] = [:]
        for part in trimmed.dropFirst(algorithm.count + 1).split(separator: ",") {
            let pair = part.trimmingCharacters(in: .whitespaces).split(separator: "=", maxSplits: 1)
            if pair.count == 2 { fields[String(pair[0])] = String(pair[1]) }
        }
        let missing = ["Credential", "SignedHeaders", "Signature"].filter { fields[$0] == nil }
        guard missing.isEmpty, let credential = fields["Credential"], let signed = fields["SignedHeaders"],
            let signature = fields["Signature"]
        else {
            throw SigV4Failure.incompleteSignature(
                "Authorization header requires \(missing.map { "'\($0)'" }.joined(separator: ", ")) parameter(s). "
                    + "Authorization=\(header)")
        }
        let scope = credential.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard scope.count == 5, scope[4] == "aws4_request", !scope[0].isEmpty else {
            throw SigV4Failure.incompleteSignature(
                "Credential should be ACCESS_KEY_ID/YYYYMMDD/REGION/SERVICE/aws4_request, not '\(credential)'."
            )
        }
        return Authorization(
            accessKeyID: scope[0], date: scope[1], region: scope[2], service: scope[3],
            signedHeaders: signed.split(separator: ";").map { $0.lowercased() }, signature: signature)
    }

    /// The signature a request signed with `secretAccessKey` carries, lowercase hex.
    static func signature(
        _ request: SignedRequest, authorization: Authorization, amzDate: String, secretAccessKey: String
    ) -> String {
        let stringToSign = [
            algorithm, amzDate, authorization.scope,
            hex(
                SHA256.hash(
                    data: Array(canonicalRequest(request, signedHeaders: authorization.signedHeaders).utf8))),
        ].joined(separator: "\n")
        var key = SymmetricKey(data: Array(("AWS4" + secretAccessKey).utf8))
        for part in [authorization.date, authorization.region, authorization.service, "aws4_request"] {
            key = SymmetricKey(
                data: Array(HMAC<SHA256>.authenticationCode(for: Array(part.utf8), using: key)))
        }
        return hex(HMAC<SHA256>.authenticationCode(for: Array(stringToSign.utf8), using: key))
    }

    /// The canonical request: method, path, sorted query, the signed headers' names and
    /// trimmed values, and the body's SHA-256.
    static func canonicalRequest(_ request: SignedRequest, signedHeaders: [String]) -> String {
        let headers = signedHeaders.map { name in
            name + ":"
                + request.values(name).map {
                    $0.split(whereSeparator: { $0 == " " || $0 == "\t" }).joined(separator: " ")
                }.joined(separator: ",")
        }
        return [
            request.method.uppercased(),
            request.path.isEmpty ? "/" : request.path,
            canonicalQuery(request.query),
            headers.joined(separator: "\n") + "\n",
            signedHeaders.joined(separator: ";"),
            hex(SHA256.hash(data: request.body)),
        ].joined(separator: "\n")
    }

    /// Each `name=value` pair decoded and encoded again as AWS encodes, sorted.
    static func canonicalQuery(_ query: String) -> String {
        query.split(separator: "&").map { pair in
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = uriEncode(String(parts[0]).removingPercentEncoding ?? String(parts[0]))
            let value =
                parts.count > 1 ? uriEncode(String(parts[1]).removingPercentEncoding ?? String(parts[1])) : ""
            return (name, value)
        }.sorted { $0 < $1 }.map { "\($0.0)=\($0.1)" }.joined(separator: "&")
    }

    private static let unreserved = Set(
        Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~".utf8))

    static func uriEncode(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            if unreserved.contains(byte) {
                out.append(Character(Unicode.Scalar(byte)))
            } else {
                out += String(format: "%%%02X", byte)
            }
        }
        return out
    }

    static func hex(_ bytes: some Sequence<UInt8>) -> String {
        bytes.map { String(format: "%02x", $0) }.joined()
    }

    static func constantTimeEquals(_ a: String, _ b: String) -> Bool {
        let (x, y) = (Array(a.utf8), Array(b.utf8))
        guard x.count == y.count else { return false }
        return zip(x, y).reduce(0) { $0 | ($1.0 ^ $1.1) } == 0
    }

    private static func formatter() -> DateFormatter {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMdd'T'HHmmss'Z'"
        return formatter
    }

    static func parseDate(_ text: String) -> Date? { formatter().date(from: text) }
    static func format(_ date: Date) -> String { formatter().string(from: date) }
}
