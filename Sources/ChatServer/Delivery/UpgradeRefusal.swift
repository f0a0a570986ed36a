import Foundation
import NIOCore
import NIOHTTP1

/// Answers a refused WebSocket upgrade with the contract's 401 and error envelope. The
/// WebSocket library answers a refused upgrade with a bare 400, so the refusal is written
/// straight to the connection (still speaking HTTP/1 at this point), which is then closed.
enum UpgradeRefusal {
    static func send(_ error: APIError, on channel: any NIOCore.Channel) async {
        let requestID = UUID().uuidString.lowercased()
        let body = APIMiddleware.body(for: error, requestID: requestID)
        let headers = HTTPHeaders([
            ("Content-Type", "application/json; charset=utf-8"),
            ("Content-Length", String(body.readableBytes)),
            ("X-Request-ID", requestID), ("Connection", "close"),
        ])
        let head = HTTPResponseHead(
            version: .http1_1, status: HTTPResponseStatus(statusCode: Int(error.status.code)),
            headers: headers)
        channel.write(HTTPServerResponsePart.head(head), promise: nil)
        channel.write(HTTPServerResponsePart.body(.byteBuffer(body)), promise: nil)
        try? await channel.writeAndFlush(HTTPServerResponsePart.end(nil)).get()
        try? await channel.close()
    }
}
