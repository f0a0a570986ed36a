import Chat
import Foundation

/// What a client may send over a delivery socket: control frames only.
enum ClientFrame: Equatable {
    case subscribe(channelID: String, sinceSeq: UInt64?)
    case unsubscribe(channelID: String)
    case ping
    /// A fresh token for the same user, renewing the socket before its token expires.
    case auth(token: String)

    /// Why a frame was refused; becomes an `error` frame and the socket stays open.
    struct Refusal: Error, Equatable {
        var code = "invalid_request"
        var message: String
        var channelID: String?
    }

    static let receiveOnly =
        "this socket is receive-only: it accepts subscribe, unsubscribe, ping and auth frames; "
        + "send messages with POST /v1/channels/{channelId}/messages"

    private struct Fields: Decodable {
        var type: String?
        var channelId: String?
        var sinceSeq: Int64?
        var token: String?
    }

    /// Parses a text frame.
    static func parse(_ text: some Collection<UInt8>) throws(Refusal) -> ClientFrame {
        let fields: Fields
        do {
            fields = try JSONDecoder().decode(Fields.self, from: Data(text))
        } catch {
            throw Refusal(message: "a frame must be a JSON object with a string 'type'. " + receiveOnly)
        }
        switch fields.type {
        case "subscribe":
            let channelID = try channel(fields)
            if let since = fields.sinceSeq, since < 0 {
                throw Refusal(message: "sinceSeq must be 0 or more", channelID: channelID)
            }
            return .subscribe(channelID: channelID, sinceSeq: fields.sinceSeq.map { UInt64($0) })
        case "unsubscribe":
            return .unsubscribe(channelID: try channel(fields))
        case "ping":
            return .ping
        case "auth":
            guard let token = fields.token, !token.isEmpty else {
                throw Refusal(message: "'auth' needs a token")
            }
            return .auth(token: token)
        default:
            throw Refusal(message: receiveOnly, channelID: fields.channelId)
        }
    }

    private static func channel(_ fields: Fields) throws(Refusal) -> String {
        guard let channelID = fields.channelId, !channelID.isEmpty, channelID.utf8.count <= 256 else {
            throw Refusal(message: "'\(fields.type ?? "")' needs a channelId")
        }
        return channelID
    }
}
