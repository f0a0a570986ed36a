import Hummingbird
import HummingbirdWebSocket
import NIOCore

/// The context of a WebSocket upgrade request. It keeps the connection's channel so that a
/// socket whose client stopped reading can be closed even when its close frame cannot be sent.
public struct DeliveryRequestContext: RequestContext, WebSocketRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let webSocket: WebSocketHandlerReference<Self>
    let channel: any NIOCore.Channel

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        webSocket = .init()
        channel = source.channel
    }
}
