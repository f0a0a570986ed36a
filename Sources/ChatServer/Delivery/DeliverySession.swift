import Chat
import DequeModule
import EventLog
import Foundation
import NIOCore
import Synchronization

/// Why a delivery socket closes, and the WebSocket close code it gets.
public enum DeliveryCloseReason: Sendable, Equatable {
    /// Its queue of live frames filled: 1008 "slow consumer".
    case slowConsumer
    /// The server is stopping: 1001.
    case shutdown
    /// The client went away.
    case disconnected
    /// Its token expired and was not renewed: 4401 "token expired".
    case tokenExpired
}

/// What a connection's writer does next.
public enum DeliveryStep: Sendable {
    /// Write these frames, in order; then, with `resumeNext`, ask again for a resume page
    /// (no wake-up announces one).
    case frames(Deque<ByteBuffer>, resumeNext: Bool)
    /// Send the close frame this reason calls for.
    case close(DeliveryCloseReason)
    /// Read the next page of a resuming subscription from the log (`DeliveryHub.resume`):
    /// blocking work, for a task rather than an event loop.
    case resume(DeliveryResume)
    /// Nothing until the session's `onWork` is called again.
    case idle
}

/// A resume page to read: which subscription, from where.
public struct DeliveryResume: Sendable {
    let channelID: String
    let subscription: DeliverySession.Subscription
}

/// One delivery connection: its user, its subscriptions and its bounded queue of frames.
/// The hub changes it under its lock and calls `onWork` when there is something to write;
/// the connection then takes it with `DeliveryHub.next(for:)`.
public final class DeliverySession: Sendable {
    /// The connection id, as the registry stores it.
    public let id: String
    /// The authenticated user.
    public let user: String
    let state = Mutex(State())

    init(id: String, user: String, validUntil: Date, onWork: @escaping @Sendable () -> Void) {
        self.id = id
        self.user = user
        state.withLock {
            $0.onWork = onWork
            $0.validUntil = validUntil
        }
    }

    struct Subscription {
        /// The last channel seq handed to the writer.
        var delivered: SequenceNumber
        /// Live frames are taken only once the resume has caught up with the fan-out.
        var live: Bool
        /// The channel's head when membership was checked: a later removal ends the subscription.
        var checkedAt: SequenceNumber
        /// Tells a resume step apart from a later subscription to the same channel.
        var generation: UInt64
    }

    struct State {
        var outbox = Deque<ByteBuffer>()
        var queuedBytes = 0
        var subscriptions: [String: Subscription] = [:]
        var nextGeneration: UInt64 = 0
        var closed: DeliveryCloseReason?
        /// When the session's token stops being accepted; an `auth` frame moves it later.
        var validUntil = Date.distantFuture
        /// Tells the connection there is work; called once until it next asks for it.
        var onWork: (@Sendable () -> Void)?
        var workPending = false

        /// Queues a frame and wakes the writer (unless the caller wakes it later); false when
        /// that passes the bounds.
        mutating func enqueue(_ frame: ByteBuffer, limits: DeliveryConfiguration, wake: Bool = true) -> Bool {
            guard closed == nil else { return true }
            outbox.append(frame)
            queuedBytes += frame.readableBytes
            if wake { wakeWriter() }
            return outbox.count <= limits.maxQueuedFrames && queuedBytes <= limits.maxQueuedBytes
        }

        mutating func wakeWriter() {
            guard !workPending else { return }
            workPending = true
            onWork?()
        }

        /// Marks the session closed, drops its queue and wakes everyone waiting on it.
        mutating func close(_ reason: DeliveryCloseReason) {
            guard closed == nil else { return }
            closed = reason
            outbox.removeAll()
            queuedBytes = 0
            // Even with a wake-up pending: a connection busy writing looks only for a close.
            workPending = true
            onWork?()
        }
    }

    /// What a live frame did to this session.
    enum OfferOutcome {
        case queued, ignored, ended, overflowed
    }

    /// Offers a live frame of a channel at `seq`. Frames the session already has are ignored,
    /// unless they are a `replay` (then sent again); a frame past a gap sends the subscription
    /// back to resuming from the log.
    func offer(
        _ frame: ByteBuffer, channelID: String, seq: SequenceNumber, endsMembership: Bool, replay: Bool,
        limits: DeliveryConfiguration, wake: Bool
    ) -> OfferOutcome {
        state.withLock { state in
            guard state.closed == nil, var subscription = state.subscriptions[channelID], subscription.live
            else { return .ignored }
            if replay, seq <= subscription.delivered {
                // Sent before: again as it was, changing nothing the live frames go by.
                guard state.enqueue(frame, limits: limits, wake: wake) else {
                    state.close(.slowConsumer)
                    return .overflowed
                }
                return .queued
            }
            guard seq > subscription.delivered else { return .ignored }
            guard seq == subscription.delivered + 1 else {
                subscription.live = false
                state.subscriptions[channelID] = subscription
                state.wakeWriter()
                return .ignored
            }
            subscription.delivered = seq
            state.subscriptions[channelID] = subscription
            var fits = state.enqueue(frame, limits: limits, wake: wake)
            if endsMembership, seq > subscription.checkedAt {
                state.subscriptions[channelID] = nil
                fits =
                    state.enqueue(
                        DeliveryFrame.unsubscribed(channelID: channelID, reason: "membership ended"),
                        limits: limits, wake: wake)
                    && fits
                if fits { return .ended }
            }
            guard fits else {
                state.close(.slowConsumer)
                return .overflowed
            }
            return .queued
        }
    }

    /// Closes the session: its writer and anyone waiting for the close see `reason`.
    public func close(_ reason: DeliveryCloseReason) {
        state.withLock { $0.close(reason) }
    }

    /// When the session's token stops being accepted.
    public var validUntil: Date {
        state.withLock { $0.validUntil }
    }

    /// Why the session was closed; nil while it is open.
    public var closeReason: DeliveryCloseReason? {
        state.withLock { $0.closed }
    }

    /// The channels the session subscribes to.
    public var channels: [String] {
        state.withLock { Array($0.subscriptions.keys) }
    }
}
