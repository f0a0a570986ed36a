import Chat
import EventLog
import Foundation
import Logging
import NIOCore
import Synchronization

/// Fans committed records out to the WebSocket subscribers of their channels, and resumes a
/// subscription from the log until it meets the live fan-out, with no gap and no duplicate.
///
/// Locks are taken hub first, then session, never the other way round.
public final class DeliveryHub: Sendable {
    let chat: ChatService
    let configuration: DeliveryConfiguration
    /// Checks the tokens of `auth` frames.
    let authority: TokenAuthority
    let registry: ConnectionRegistry
    let logger: Logger
    public let statistics = DeliveryStatistics()
    let state = Mutex(State())

    struct State {
        /// Channel → its subscribed sessions by connection id.
        var channels: [String: [String: DeliverySession]] = [:]
        /// Channel → the highest seq fanned out while it had subscribers. Every record up to it
        /// is committed, so a resume that reaches it can switch to live frames safely; a record
        /// fanned out before a subscriber came was committed before its resume reads the log.
        var fannedOut: [String: SequenceNumber] = [:]
        var sessions: [String: DeliverySession] = [:]
        /// User → their sessions by connection id: who hears of the user's read markers.
        var sessionsByUser: [String: [String: DeliverySession]] = [:]
        /// Channel → the subscribers `fanOut` queued frames for without waking them yet.
        var heldWakes: [String: [String: DeliverySession]] = [:]
        /// Shard → the highest seq fanned out: a record at or below it comes again because the
        /// `delivery` group was reset, and is re-sent (clients drop what they have by seq).
        var fannedOutThrough: [ShardKey: SequenceNumber] = [:]
        var closing: DeliveryCloseReason?
        var drainWaiters: [CheckedContinuation<Void, Never>] = []

        /// Takes a session off a channel's subscribers. A channel left with none is forgotten,
        /// with its fan-out mark: the hub holds only channels someone watches, however many
        /// channels pass through the log over the server's life.
        mutating func removeSubscriber(_ sessionID: String, from channelID: String) {
            channels[channelID]?[sessionID] = nil
            if channels[channelID]?.isEmpty == true {
                channels[channelID] = nil
                fannedOut[channelID] = nil
            }
        }
    }

    public init(
        chat: ChatService, authority: TokenAuthority,
        configuration: DeliveryConfiguration = DeliveryConfiguration(), logger: Logger
    ) {
        self.chat = chat
        self.authority = authority
        self.configuration = configuration
        self.registry = ConnectionRegistry(storage: chat.log)
        self.logger = logger
    }

    /// Clears what a previous process left in the connection registry; run once at start.
    public func start() async throws {
        let stale = try await registry.clear()
        if stale > 0 { logger.info("cleared stale connections", metadata: ["count": "\(stale)"]) }
    }

    // MARK: Connections

    /// Opens a session for an authenticated user; nil once the hub is shutting down. The hub
    /// calls `onWork` (under its locks: it must only schedule) when the session has something
    /// for `next(for:)`.
    public func connect(
        user: String, validUntil: Date = .distantFuture, onWork: @escaping @Sendable () -> Void
    ) async -> DeliverySession? {
        let session = DeliverySession(
            id: UUID().uuidString.lowercased(), user: user, validUntil: validUntil, onWork: onWork)
        let accepted = state.withLock { state in
            guard state.closing == nil else { return false }
            state.sessions[session.id] = session
            state.sessionsByUser[user, default: [:]][session.id] = session
            return true
        }
        guard accepted else { return nil }
        await registryWrite { try await $0.connected(session) }
        return session
    }

    /// Forgets a session whose socket has closed.
    /// The registry forgets it before the hub counts it gone, so once `waitUntilDisconnected`
    /// returns the registry holds no closed socket.
    public func disconnect(_ session: DeliverySession) async {
        state.withLock { state in
            session.state.withLock { $0.close(.disconnected) }
            for channelID in session.channels { state.removeSubscriber(session.id, from: channelID) }
        }
        await registryWrite { try await $0.disconnected(session) }
        state.withLock { state in
            state.sessions[session.id] = nil
            state.sessionsByUser[session.user]?[session.id] = nil
            if state.sessionsByUser[session.user]?.isEmpty == true {
                state.sessionsByUser[session.user] = nil
            }
            if state.sessions.isEmpty {
                for waiter in state.drainWaiters { waiter.resume() }
                state.drainWaiters.removeAll()
            }
        }
    }

    /// Returns once every session has disconnected, or after `timeout`.
    public func waitUntilDisconnected(timeout: Duration) async {
        await withTaskGroup(of: Void.self) { tasks in
            tasks.addTask {
                await withCheckedContinuation { continuation in
                    let empty = self.state.withLock { state in
                        if state.sessions.isEmpty { return true }
                        state.drainWaiters.append(continuation)
                        return false
                    }
                    if empty { continuation.resume() }
                }
            }
            tasks.addTask { try? await Task.sleep(for: timeout) }
            await tasks.next()
            // Whichever finished first, release any waiter left so the group can end.
            let waiters = state.withLock { state in
                defer { state.drainWaiters.removeAll() }
                return state.drainWaiters
            }
            for waiter in waiters { waiter.resume() }
            tasks.cancelAll()
        }
    }

    /// Closes every session (with 1001) and refuses new ones.
    public func closeAll(_ reason: DeliveryCloseReason = .shutdown) {
        let sessions = state.withLock { state in
            state.closing = reason
            return Array(state.sessions.values)
        }
        for session in sessions { session.state.withLock { $0.close(reason) } }
    }

    /// How many sessions are open.
    public var connectionCount: Int { state.withLock { $0.sessions.count } }

    /// How many subscriptions the open sessions hold.
    public var subscriptionCount: Int {
        state.withLock { $0.channels.values.reduce(0) { $0 + $1.count } }
    }

    /// How many channels have at least one subscriber.
    public var subscribedChannelCount: Int { state.withLock { $0.channels.count } }

    /// How many channels the hub keeps a fan-out mark for (at most the subscribed ones).
    package var fanOutMarkCount: Int { state.withLock { $0.fannedOut.count } }

    // MARK: Client frames

    /// Handles a frame the client sent; a refused one gets an `error` frame.
    public func receive(text: some Collection<UInt8>, from session: DeliverySession) async {
        do {
            switch try ClientFrame.parse(text) {
            case .subscribe(let channelID, let sinceSeq):
                try await subscribe(session, to: channelID, sinceSeq: sinceSeq)
            case .unsubscribe(let channelID):
                await unsubscribe(session, from: channelID)
            case .ping:
                send(DeliveryFrame.pong, to: session)
            case .auth(let token):
                try await renew(session, with: token)
            }
        } catch let refusal as ClientFrame.Refusal {
            refuse(refusal, session)
        } catch {
            logger.error("delivery frame failed", metadata: ["error": "\(error)"])
            refuse(.init(code: "internal", message: "the server could not handle the frame"), session)
        }
    }

    /// Moves a session's token expiry to a fresh token's; the token must be the same user's.
    private func renew(_ session: DeliverySession, with token: String) async throws {
        let identity: TokenIdentity
        do {
            identity = try await authority.identity(fromToken: token)
        } catch {
            let reason = (error as? APIError)?.message ?? "invalid token"
            throw ClientFrame.Refusal(
                code: "unauthorized", message: reason + "; the current token still counts")
        }
        guard identity.user == session.user else {
            throw ClientFrame.Refusal(
                code: "unauthorized", message: "the token is for another user; the current token still counts"
            )
        }
        session.state.withLock { $0.validUntil = max($0.validUntil, identity.validUntil) }
        send(DeliveryFrame.authenticated(validUntil: identity.validUntil), to: session)
    }

    /// Handles a binary frame: always refused, the socket is receive-only and speaks JSON.
    public func receiveBinary(from session: DeliverySession) {
        refuse(.init(message: ClientFrame.receiveOnly), session)
    }

    private func refuse(_ refusal: ClientFrame.Refusal, _ session: DeliverySession) {
        send(
            DeliveryFrame.error(code: refusal.code, message: refusal.message, channelID: refusal.channelID),
            to: session)
    }

    private func send(_ frame: ByteBuffer, to session: DeliverySession) {
        let overflowed = session.state.withLock { state in
            guard state.enqueue(frame, limits: configuration) else {
                state.close(.slowConsumer)
                return true
            }
            return false
        }
        if overflowed { statistics.slowConsumerDisconnects.add(1, ordering: .relaxed) }
    }

    private func subscribe(_ session: DeliverySession, to channelID: String, sinceSeq: UInt64?) async throws {
        // The head is read before membership is checked, so a removal after it ends the subscription.
        let head = try await chat.log.channelHead(stream: .chatEvents, channelID: channelID)
        do {
            try chat.requireMember(channelID, user: session.user)
        } catch let error as ChatError {
            throw ClientFrame.Refusal(code: "not_found", message: error.description, channelID: channelID)
        }
        if let sinceSeq, sinceSeq > head {
            throw ClientFrame.Refusal(
                message: "sinceSeq \(sinceSeq) is past the channel's head \(head)", channelID: channelID)
        }
        let start = sinceSeq ?? head
        var recovered = head - start
        var truncated = false
        if start < head {
            let first = try await chat.log.channelRecords(
                stream: .chatEvents, channelID: channelID, after: start, limit: 1
            ).first?.channelSeq
            if first.map({ $0 > start + 1 }) ?? true {
                truncated = true
                recovered = first.map { head - $0 + 1 } ?? 0
            }
        }
        // The registry has the subscription before the client hears of it. A connection's client
        // frames are handled one at a time, so nothing adds a subscription meanwhile.
        let (isNew, count) = session.state.withLock {
            ($0.subscriptions[channelID] == nil, $0.subscriptions.count)
        }
        if isNew {
            guard count < configuration.maxSubscriptions else {
                throw ClientFrame.Refusal(
                    message:
                        "a connection may subscribe to at most \(configuration.maxSubscriptions) channels",
                    channelID: channelID)
            }
            await registryWrite { try await $0.subscribed(session, to: channelID) }
        }
        state.withLock { state in
            // One String instance per channel, shared by the hub and its sessions: the fan-out's
            // lookup in each subscriber's table then compares keys by identity, not by bytes.
            let channelID =
                state.channels.index(forKey: channelID).map { state.channels.keys[$0] } ?? channelID
            session.state.withLock { sessionState in
                sessionState.nextGeneration += 1
                sessionState.subscriptions[channelID] = DeliverySession.Subscription(
                    delivered: start, live: false, checkedAt: head, generation: sessionState.nextGeneration)
                _ = sessionState.enqueue(
                    DeliveryFrame.subscribed(
                        channelID: channelID, head: head, recovered: recovered, truncated: truncated),
                    limits: configuration)
                guard sessionState.closed == nil else { return }
                state.channels[channelID, default: [:]][session.id] = session
            }
        }
    }

    private func unsubscribe(_ session: DeliverySession, from channelID: String) async {
        let removed = state.withLock { state in
            state.removeSubscriber(session.id, from: channelID)
            return session.state.withLock { sessionState in
                let removed = sessionState.subscriptions.removeValue(forKey: channelID) != nil
                _ = sessionState.enqueue(
                    DeliveryFrame.unsubscribed(channelID: channelID), limits: configuration)
                return removed
            }
        }
        if removed { await registryWrite { try await $0.unsubscribed(session, from: channelID) } }
    }

    private func registryWrite(_ body: (ConnectionRegistry) async throws -> Void) async {
        do {
            try await body(registry)
        } catch {
            logger.warning("connection registry not updated", metadata: ["error": "\(error)"])
        }
    }
}
