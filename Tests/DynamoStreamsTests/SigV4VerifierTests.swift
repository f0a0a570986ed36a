import Foundation
import Testing

@testable import DynamoStreams

/// The verifier against requests botocore signed (tools/fixtures/sigv4.py wrote them).
@Suite struct SigV4VerifierTests {
    struct Fixture: Decodable {
        var accessKeyId: String
        var secretAccessKey: String
        var signedAt: String
        var requests: [Request]

        struct Request: Decodable {
            var name: String
            var method: String
            var path: String
            var query: String
            var headers: [[String]]
            var body: String

            var signed: SignedRequest {
                SignedRequest(
                    method: method, path: path, query: query, headers: headers.map { ($0[0], $0[1]) },
                    body: Array(body.utf8))
            }
        }
    }

    let fixture: Fixture
    let verifier = SigV4Verifier(service: "dynamodb")
    let now: Date

    init() throws {
        let url = try #require(Bundle.module.url(forResource: "Fixtures/sigv4", withExtension: "json"))
        fixture = try JSONDecoder().decode(Fixture.self, from: Data(contentsOf: url))
        now = try #require(SigV4Verifier.parseDate(fixture.signedAt))
    }

    private func verify(_ request: SignedRequest, at time: Date? = nil, secret: String? = nil) throws
        -> String
    {
        try verifier.verify(request, now: time ?? now) { id in
            id == fixture.accessKeyId ? (secret ?? fixture.secretAccessKey) : nil
        }.accessKeyID
    }

    private func failure(_ request: SignedRequest, at time: Date? = nil, secret: String? = nil)
        -> SigV4Failure?
    {
        do {
            _ = try verify(request, at: time, secret: secret)
            return nil
        } catch {
            return error as? SigV4Failure
        }
    }

    @Test func everyRequestBotocoreSignedIsAccepted() throws {
        #expect(fixture.requests.count >= 4)
        for request in fixture.requests {
            #expect(try verify(request.signed) == fixture.accessKeyId, "\(request.name)")
            let region = try verifier.verify(request.signed, now: now) { _ in fixture.secretAccessKey }.region
            #expect(["us-east-1", "eu-west-3", "us-west-2", "ap-southeast-2"].contains(region))
        }
    }

    @Test func aChangedByteAnywhereIsRefused() throws {
        for request in fixture.requests {
            var body = request.signed
            body.body.append(UInt8(ascii: " "))
            #expect(failure(body)?.type == "InvalidSignatureException", "\(request.name) body")
            var path = request.signed
            path.path += "x"
            #expect(failure(path)?.type == "InvalidSignatureException", "\(request.name) path")
            var header = request.signed
            header.headers = header.headers.map { $0.name == "X-Amz-Target" ? ($0.name, $0.value + "x") : $0 }
            #expect(failure(header)?.type == "InvalidSignatureException", "\(request.name) target")
            var query = request.signed
            query.query += query.query.isEmpty ? "z=1" : "&z=1"
            #expect(failure(query)?.type == "InvalidSignatureException", "\(request.name) query")
        }
    }

    @Test func aWrongSecretOrUnknownKeyIsRefused() throws {
        let request = fixture.requests[0].signed
        #expect(failure(request, secret: "not-the-secret")?.type == "InvalidSignatureException")
        let unknown = try verifier.verifyResult(request, now: now) { _ in nil }
        #expect(unknown == .unrecognizedClient)
    }

    @Test func aMissingOrIncompleteAuthorizationIsRefused() throws {
        var request = fixture.requests[0].signed
        request.headers.removeAll { $0.name == "Authorization" }
        #expect(failure(request) == .missingAuthentication)
        request.headers.append(
            (
                "Authorization",
                "AWS4-HMAC-SHA256 Credential=AKCLEXAMPLE000000001/20261205/us-east-1/dynamodb/aws4_request"
            ))
        #expect(failure(request)?.type == "IncompleteSignatureException")
        request.headers.removeLast()
        request.headers.append(("Authorization", "Bearer abc"))
        #expect(failure(request)?.type == "IncompleteSignatureException")
    }

    @Test func aSignatureOlderOrNewerThanFifteenMinutesIsRefused() throws {
        let request = fixture.requests[0].signed
        #expect(try verify(request, at: now.addingTimeInterval(14 * 60)) == fixture.accessKeyId)
        let late = failure(request, at: now.addingTimeInterval(16 * 60))
        #expect(late?.type == "InvalidSignatureException")
        #expect(late?.message.hasPrefix("Signature expired") == true)
        #expect(failure(request, at: now.addingTimeInterval(-16 * 60))?.type == "InvalidSignatureException")
    }

    @Test func anotherServiceInTheScopeIsRefused() throws {
        #expect(
            failure(fixture.requests[0].signed, at: now).map { _ in true } == nil,
            "the fixture itself verifies")
        let other = SigV4Verifier(service: "s3")
        #expect(throws: SigV4Failure.self) {
            _ = try other.verify(fixture.requests[0].signed, now: now) { _ in fixture.secretAccessKey }
        }
    }

    @Test func theCanonicalQuerySortsAndEncodesAsAWSDoes() {
        #expect(SigV4Verifier.canonicalQuery("b=2&a=1&a=0&c=x%20y") == "a=0&a=1&b=2&c=x%20y")
        #expect(SigV4Verifier.canonicalQuery("k=a+b/c~") == "k=a%2Bb%2Fc~")
        #expect(SigV4Verifier.canonicalQuery("") == "")
    }
}

extension SigV4Verifier {
    /// The failure, or nil when accepted.
    func verifyResult(_ request: SignedRequest, now: Date, secret: (String) throws -> String?) throws
        -> SigV4Failure?
    {
        do {
            _ = try verify(request, now: now, secret: secret)
            return nil
        } catch let failure as SigV4Failure {
            return failure
        }
    }
}
