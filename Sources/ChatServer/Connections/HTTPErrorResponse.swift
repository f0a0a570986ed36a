import Foundation
import NIOCore
import NIOHTTP1

/// An error envelope written below the router, on a connection that is still plain HTTP/1:
/// a refused upgrade, a malformed request, a timeout, a connection over the limit. The
/// connection closes after it.
enum HTTPErrorResponse {
    /// The response's parts: a head with `Connection: close` and the envelope.
    static func parts(for error: APIError) -> (HTTPResponseHead, ByteBuffer) {
        let requestID = UUID().uuidString.lowercased()
        let body = APIMiddleware.body(for: error, requestID: requestID)
        var headers = HTTPHeaders([
            ("Content-Type", "application/json; charset=utf-8"),
            ("Content-Length", String(body.readableBytes)),
            ("X-Request-ID", requestID), ("Connection", "close"),
        ])
        for field in error.headers { headers.add(name: field.name.rawName, value: field.value) }
        let head = HTTPResponseHead(
            version: .http1_1, status: HTTPResponseStatus(statusCode: Int(error.status.code)),
            headers: headers)
        return (head, body)
    }

    /// Writes `error` on a channel whose pipeline encodes `HTTPServerResponsePart`, then
    /// closes it.
    static func send(_ error: APIError, on channel: any NIOCore.Channel) async {
        let (head, body) = parts(for: error)
        channel.write(HTTPServerResponsePart.head(head), promise: nil)
        channel.write(HTTPServerResponsePart.body(.byteBuffer(body)), promise: nil)
        try? await channel.writeAndFlush(HTTPServerResponsePart.end(nil)).get()
        try? await channel.close()
    }

    /// Writes `error` from a handler whose outbound type is `HTTPServerResponsePart`, then
    /// closes the connection.
    static func send(_ error: APIError, from context: ChannelHandlerContext) {
        let (head, body) = parts(for: error)
        context.write(NIOAny(HTTPServerResponsePart.head(head)), promise: nil)
        context.write(NIOAny(HTTPServerResponsePart.body(.byteBuffer(body))), promise: nil)
        let channel = context.channel
        context.writeAndFlush(NIOAny(HTTPServerResponsePart.end(nil))).whenComplete { _ in
            channel.close(promise: nil)
        }
    }
}
