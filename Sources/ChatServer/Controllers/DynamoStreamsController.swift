import DynamoStreams
import EventLog
import Foundation
import HTTPTypes
import Hummingbird
import JSONCoding
import NIOCore

/// `POST /ddbstreams`: the DynamoDB Streams API (`DynamoStreamsAPI`), for AWS SDKs pointed at
/// it with `endpoint_url`. Requests are signed with SigV4 by an API key's credential that holds
/// the `streams:read` scope; every answer, errors included, is in DynamoDB's shape.
struct DynamoStreamsController {
    static let path = "ddbstreams"

    let api: DynamoStreamsAPI
    let apiKeys: APIKeyStore
    let guards: AddressGuards
    let rateLimiter: RateLimiter
    let verifier = SigV4Verifier(service: "dynamodb")

    func addRoutes(to router: Router<ChatRequestContext>) {
        router.post(RouterPath(stringLiteral: Self.path)) { request, context in
            do {
                return try await answer(request, context: context)
            } catch let error as DynamoStreamsError {
                return Self.response(status: error.status, body: error.body)
            }
        }
    }

    private func answer(_ request: Request, context: ChatRequestContext) async throws -> Response {
        var request = request
        let body: [UInt8]
        do {
            body = Array(try await request.collectBody(upTo: context.maxUploadSize).readableBytesView)
        } catch {
            throw DynamoStreamsError(
                type: "RequestEntityTooLarge",
                message: "the request body is over \(context.maxUploadSize) bytes",
                status: 413)
        }
        var headers = request.headers.map { (name: $0.name.rawName, value: $0.value) }
        // HTTP/1's Host header arrives as the request's authority.
        if let authority = request.head.authority,
            !headers.contains(where: { $0.name.lowercased() == "host" })
        {
            headers.append((name: "Host", value: authority))
        }
        let signed = SignedRequest(
            method: request.method.rawValue, path: request.uri.path, query: request.uri.query ?? "",
            headers: headers, body: body)
        let (caller, region) = try await authenticate(signed, from: context.clientAddress)
        guard caller.scopes.contains(.streamsRead) else {
            throw DynamoStreamsError.accessDenied(
                "API key \(caller.keyID) lacks the 'streams:read' scope; create one that holds it with "
                    + "`chatlog apikey create --scope streams:read`")
        }
        do {
            try rateLimiter.admit("key:" + caller.keyID)
        } catch {
            throw DynamoStreamsError(
                type: "ThrottlingException", message: "Rate of requests exceeds the allowed throughput.")
        }
        let target = request.headers[HTTPField.Name("X-Amz-Target")!] ?? ""
        return Self.response(
            status: 200, body: try await api.handle(target: target, body: body, region: region))
    }

    /// The caller a request's signature names, and the region it was signed for. Failures
    /// count against the address as any failed authentication does.
    private func authenticate(_ request: SignedRequest, from address: String) async throws(DynamoStreamsError)
        -> (
            APIKeyStore.Caller, String
        )
    {
        var failure: SigV4Failure?
        do {
            return try await guards.authenticate(from: address) {
                var caller: APIKeyStore.Caller?
                do {
                    let signer = try verifier.verify(request) { id in
                        guard let found = try apiKeys.sigV4Secret(accessKeyId: id) else { return nil }
                        caller = found.caller
                        return found.secret
                    }
                    guard let caller else { throw SigV4Failure.unrecognizedClient }
                    return (caller, signer.region)
                } catch let refused as SigV4Failure {
                    failure = refused
                    throw APIError.unauthorized(refused.message)
                }
            }
        } catch {
            if let failure { throw DynamoStreamsError(failure) }
            if let error = error as? APIError, error.status == .tooManyRequests {
                throw DynamoStreamsError(
                    type: "ThrottlingException", message: "Too many failed authentications from this address."
                )
            }
            throw DynamoStreamsError.internalError("\(error)")
        }
    }

    private static func response(status: Int, body: [UInt8]) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/x-amz-json-1.0"
        headers[HTTPField.Name("x-amzn-RequestId")!] = UUID().uuidString
        return Response(
            status: HTTPResponse.Status(code: status), headers: headers,
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: body)))
    }
}
