import Chat
import ChatServer
import ChatlogTestSupport
import EventLog
import Foundation
import HTTPTypes
import HummingbirdWSClient
import NIOWebSocket
import Testing

@Suite(.timeLimit(.minutes(1))) struct WebSocketTests {
    @Test func aSocketClosesWith4401WhenItsTokenExpiresUnlessRenewedInPlace() async throws {
        try await TestServer.run(configure: { $0.auth.clockLeeway = .zero }) { server in
            let channel = try await server.createChannel(by: "alice")
            // Tokens are whole seconds: one minted with 6 s left lasts 5 to 6 s, long enough for
            // the subscriptions below on a busy machine.
            let renewed = WebSocketProbe(
                port: server.port, token: try await server.token("alice", ttl: .seconds(6)))
            let expiring = WebSocketProbe(
                port: server.port, token: try await server.token("alice", ttl: .seconds(6)))
            try await renewed.subscribe(channel)
            try renewed.send(["type": "auth", "token": try await server.token("alice", ttl: .seconds(60))])
            let authenticated = try await renewed.next()
            #expect(authenticated["type"] as? String == "authenticated", "\(authenticated)")
            #expect(authenticated["validUntil"] is String)
            try await expiring.subscribe(channel)
            // Another user's token, or a bad one, renews nothing and closes nothing.
            try renewed.send(["type": "auth", "token": try await server.token("bob", ttl: .seconds(60))])
            let otherUser = try await renewed.next()
            #expect(otherUser["type"] as? String == "error")
            #expect(otherUser["code"] as? String == "unauthorized")
            try renewed.send(["type": "auth", "token": "not-a-token"])
            #expect(try await renewed.next()["code"] as? String == "unauthorized")
            // The socket that was not renewed ends when its token does.
            let close = try await expiring.closed()
            #expect(close?.closeCode == WebSocketErrorCode(codeNumber: 4401))
            #expect(close?.reason?.hasPrefix("token expired") == true)
            // The renewed one outlives its first token and still gets what is posted.
            _ = try await server.post("after expiry", in: channel, by: "alice")
            let frame = try await renewed.next()
            #expect(frame["type"] as? String == "message", "\(frame)")
            #expect((frame["message"] as? [String: Any])?["text"] as? String == "after expiry")
            try await renewed.close()
        }
    }

    @Test func aRESTPostedMessageArrivesAsAMessageFrameInTheRESTShape() async throws {
        try await TestServer.run { server in
            let channel = try await server.createChannel(by: "alice")
            let probe = WebSocketProbe(port: server.port, token: try await server.token("alice"))
            let subscribed = try await probe.subscribe(channel)
            #expect(subscribed["seq"] as? Int == 1)
            #expect(subscribed["recovered"] as? Int == 0)
            let posted = try await server.post("hello", in: channel, by: "alice")
            let frame = try await probe.next()
            #expect(frame["type"] as? String == "message")
            #expect(frame["channelId"] as? String == channel)
            #expect(frame["seq"] as? Int == 2)
            let message = try #require(frame["message"] as? [String: Any])
            #expect(NSDictionary(dictionary: message).isEqual(to: posted))
            try await probe.close()
        }
    }

    @Test func theTokenMayComeInTheQueryAndAMissingOrBadOneIsRefusedWith401() async throws {
        try await TestServer.run { server in
            let channel = try await server.createChannel(by: "alice")
            let probe = WebSocketProbe(
                port: server.port, token: try await server.token("alice"), tokenInQuery: true)
            try await probe.subscribe(channel)
            try await probe.close()

            let refused = WebSocketProbe(port: server.port, token: "not-a-token")
            await #expect(throws: WebSocketClientError.self) { try await refused.closed() }
            for headers in [[], ["Authorization: Bearer wrong.token.here"]] {
                let (status, body) = try await rawUpgradeRequest(port: server.port, headers: headers)
                #expect(status == 401)
                #expect((body["error"] as? [String: Any])?["code"] as? String == "unauthorized")
            }
            let expired = try await server.token("alice", ttl: .seconds(-60))
            #expect(
                try await rawUpgradeRequest(port: server.port, headers: ["Authorization: Bearer \(expired)"])
                    .status
                    == 401)
            // Without an upgrade it is an ordinary request: the token is still checked first.
            expectError(try await server.send(.get, "/v1/ws"), .unauthorized, "unauthorized")
            expectError(try await server.send(.get, "/v1/ws", as: "alice"), .badRequest, "invalid_request")
        }
    }

    @Test func aClientThatAnswersNoPingIsClosed() async throws {
        try await TestServer.run(configure: { $0.webSocket.pingInterval = .milliseconds(200) }) { server in
            let token = try await server.token("alice")
            let bytes = await rawUpgrade(
                port: server.port, headers: ["Authorization: Bearer \(token)"], timeout: 15)
            let text = String(decoding: bytes.prefix(12), as: UTF8.self)
            #expect(text.hasPrefix("HTTP/1.1 101"))
            let end = try #require(bytes.firstRange(of: Array("\r\n\r\n".utf8))).upperBound
            let opcodes = Self.opcodes(Array(bytes[end...]))
            #expect(opcodes.first == 0x9, "a ping first")
            #expect(opcodes.last == 0x8, "then a close frame")
        }
    }

    /// The opcodes of the unmasked frames in `bytes`.
    static func opcodes(_ bytes: [UInt8]) -> [UInt8] {
        serverFrames(bytes).map(\.opcode)
    }

    @Test func fragmentsPingsAndTheClosingHandshakeFollowRFC6455() async throws {
        try await TestServer.run { server in
            let token = try await server.token("alice")
            // Sent with the upgrade request itself: a fragmented text message, then a ping.
            let frames =
                maskedFrame(opcode: 0x1, fin: false, Array(#"{"type":"#.utf8))
                + maskedFrame(opcode: 0x0, fin: false, Array(#""pi"#.utf8))
                + maskedFrame(opcode: 0x0, Array(#"ng"}"#.utf8)) + maskedFrame(opcode: 0x9, Array("hi".utf8))
            // Once the text pong has arrived the client closes with 4000 and waits for the answer.
            let close = maskedFrame(opcode: 0x8, [0x0F, 0xA0] + Array("bye".utf8))
            let bytes = await rawUpgrade(
                port: server.port, headers: ["Authorization: Bearer \(token)"], frames: frames,
                reply: (close, { String(decoding: $0, as: UTF8.self).contains(#""type":"pong""#) }))
            let end = try #require(bytes.firstRange(of: Array("\r\n\r\n".utf8))).upperBound
            #expect(String(decoding: bytes.prefix(12), as: UTF8.self) == "HTTP/1.1 101")
            let received = serverFrames(bytes[end...])
            #expect(
                received.contains { $0.opcode == 0xA && $0.payload == Array("hi".utf8) },
                "a pong with the ping's data")
            #expect(
                received.contains {
                    $0.opcode == 0x1 && String(decoding: $0.payload, as: UTF8.self).contains("pong")
                })
            #expect(received.last?.opcode == 0x8, "the close is answered, then the socket closes")
            #expect(received.last?.payload == [0x0F, 0xA0])
        }
    }

    @Test func brokenFragmentsCloseTheSocketWithTheirCode() async throws {
        let configure: (inout ServerConfiguration) -> Void = {
            $0.webSocket.maxFrameSize = 100
            $0.webSocket.closeTimeout = .milliseconds(200)
        }
        try await TestServer.run(configure: configure) { server in
            let headers = ["Authorization: Bearer \(try await server.token("alice"))"]
            let cases: [(frames: [UInt8], code: [UInt8])] = [
                // A continuation of nothing: 1002, protocol error.
                (maskedFrame(opcode: 0x0, Array("orphan".utf8)), [0x03, 0xEA]),
                // A new message inside a fragmented one: 1002.
                (
                    maskedFrame(opcode: 0x1, fin: false, Array("{".utf8))
                        + maskedFrame(opcode: 0x1, Array("{}".utf8)), [0x03, 0xEA]
                ),
                // Fragments adding up past maxFrameSize: 1009, message too big.
                (
                    maskedFrame(opcode: 0x1, fin: false, Array(repeating: 0x20, count: 60))
                        + maskedFrame(opcode: 0x0, Array(repeating: 0x20, count: 60)), [0x03, 0xF1]
                ),
            ]
            for (frames, code) in cases {
                // The client never answers the close: the server cuts the socket after the timeout.
                let bytes = await rawUpgrade(port: server.port, headers: headers, frames: frames)
                let end = try #require(bytes.firstRange(of: Array("\r\n\r\n".utf8))).upperBound
                let close = try #require(serverFrames(bytes[end...]).last)
                #expect(close.opcode == 0x8)
                #expect(Array(close.payload.prefix(2)) == code)
            }
        }
    }

    @Test func anUpgradeLaterOnAKeptAliveConnectionIsRedirectedToANewOne() async throws {
        try await TestServer.run { server in
            let token = try await server.token("alice")
            // The first request on the connection is not an upgrade, the second is.
            let first = "GET /v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
            let text = String(
                decoding: await rawUpgrade(
                    port: server.port, headers: ["Authorization: Bearer \(token)"], before: first),
                as: UTF8.self)
            let responses = text.components(separatedBy: "HTTP/1.1 ").dropFirst()
            #expect(responses.first?.hasPrefix("200") == true)
            #expect(responses.last?.hasPrefix("307") == true)
            #expect(responses.last?.lowercased().contains("location: /v1/ws") == true)
        }
    }

    @Test func theSocketIsReceiveOnlyButStaysOpen() async throws {
        try await TestServer.run { server in
            let channel = try await server.createChannel(by: "alice")
            let probe = WebSocketProbe(port: server.port, token: try await server.token("alice"))
            try probe.send(["type": "message", "channelId": channel, "text": "hi"])
            let error = try await probe.next()
            #expect(error["type"] as? String == "error")
            #expect(error["code"] as? String == "invalid_request")
            #expect((error["message"] as? String)?.contains("POST /v1/channels/{channelId}/messages") == true)
            probe.sendText("not json")
            #expect(try await probe.next()["code"] as? String == "invalid_request")
            try probe.send(["type": "subscribe"])
            #expect(try await probe.next()["code"] as? String == "invalid_request")
            try probe.send(["type": "ping"])
            #expect(try await probe.next()["type"] as? String == "pong")
            // Nothing was appended by any of it.
            #expect(try await server.storage.channelHead(stream: .chatEvents, channelID: channel) == 1)
            try await probe.close()
        }
    }

    @Test func aNonMemberGetsNotFoundAndLosingMembershipEndsTheSubscription() async throws {
        try await TestServer.run { server in
            let channel = try await server.createChannel(by: "alice", members: ["bob"])
            let mallory = WebSocketProbe(port: server.port, token: try await server.token("mallory"))
            try mallory.send(["type": "subscribe", "channelId": channel])
            let error = try await mallory.next()
            #expect(error["type"] as? String == "error")
            #expect(error["code"] as? String == "not_found")
            #expect(error["channelId"] as? String == channel)
            try mallory.send(["type": "subscribe", "channelId": channel, "sinceSeq": 99])
            #expect(try await mallory.next()["code"] as? String == "not_found")

            let bob = WebSocketProbe(port: server.port, token: try await server.token("bob"))
            try bob.send(["type": "subscribe", "channelId": channel, "sinceSeq": 99])
            #expect(try await bob.next()["code"] as? String == "invalid_request")
            try await bob.subscribe(channel)
            let removed = try await server.send(.delete, "/v1/channels/\(channel)/members/bob", as: "alice")
            #expect(removed.status == .ok)
            let event = try await bob.next()
            #expect(event["type"] as? String == "event")
            #expect((event["event"] as? [String: Any])?["type"] as? String == "member.removed")
            #expect((event["event"] as? [String: Any])?["userId"] as? String == "bob")
            let ended = try await bob.next()
            #expect(ended["type"] as? String == "unsubscribed")
            #expect(ended["channelId"] as? String == channel)
            _ = try await server.post("after", in: channel, by: "alice")
            try bob.send(["type": "ping"])
            #expect(try await bob.next()["type"] as? String == "pong")
            try await mallory.close()
            try await bob.close()
        }
    }

    @Test func twoSubscribersBothReceiveAndUnsubscribeStopsDelivery() async throws {
        try await TestServer.run { server in
            let channel = try await server.createChannel(by: "alice", members: ["bob"])
            let alice = WebSocketProbe(port: server.port, token: try await server.token("alice"))
            let bob = WebSocketProbe(port: server.port, token: try await server.token("bob"))
            try await alice.subscribe(channel)
            try await bob.subscribe(channel)
            _ = try await server.post("one", in: channel, by: "alice")
            #expect(try await alice.next()["seq"] as? Int == 2)
            #expect(try await bob.next()["seq"] as? Int == 2)

            try alice.send(["type": "unsubscribe", "channelId": channel])
            let unsubscribed = try await alice.next()
            #expect(unsubscribed["type"] as? String == "unsubscribed")
            #expect(unsubscribed["channelId"] as? String == channel)
            _ = try await server.post("two", in: channel, by: "bob")
            // Bob has it, so the fan-out is done: had Alice been sent it, it would come before the pong.
            #expect(try await bob.next()["seq"] as? Int == 3)
            try alice.send(["type": "ping"])
            #expect(try await alice.next()["type"] as? String == "pong")
            try await alice.close()
            try await bob.close()
        }
    }

    @Test func aConnectionMaySubscribeToAtMostTheConfiguredNumberOfChannels() async throws {
        try await TestServer.run(configure: { $0.webSocket.delivery.maxSubscriptions = 1 }) { server in
            let first = try await server.createChannel(by: "alice")
            let second = try await server.createChannel(by: "alice")
            let probe = WebSocketProbe(port: server.port, token: try await server.token("alice"))
            try await probe.subscribe(first)
            try probe.send(["type": "subscribe", "channelId": second])
            let refused = try await probe.next()
            #expect(refused["code"] as? String == "invalid_request")
            #expect(refused["channelId"] as? String == second)
            // Subscribing again to the same channel is not a new subscription.
            try await probe.subscribe(first)
            try await probe.close()
        }
    }

    @Test func editsAndDeletesArriveAsEventFrames() async throws {
        try await TestServer.run { server in
            let channel = try await server.createChannel(by: "alice")
            let probe = WebSocketProbe(port: server.port, token: try await server.token("alice"))
            try await probe.subscribe(channel)
            let posted = try await server.post("draft", in: channel, by: "alice")
            let id = try #require(posted["id"] as? String)
            _ = try await server.send(
                .patch, "/v1/channels/\(channel)/messages/\(id)", as: "alice", json: ["text": "final"])
            #expect(try await probe.next()["type"] as? String == "message")
            let edited = try await probe.next()
            #expect(edited["type"] as? String == "event")
            #expect(edited["seq"] as? Int == 3)
            let event = try #require(edited["event"] as? [String: Any])
            #expect(event["type"] as? String == "message.edited")
            #expect(event["messageId"] as? String == id)
            #expect(event["text"] as? String == "final")
            #expect(event["actorId"] as? String == "alice")
            try await probe.close()
        }
    }
}
