import DequeModule
import EventLog
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
}

/// What a connection's writer does next.
public enum DeliveryOutput: Sendable {
    /// Write these frames, in order.
    case frames([ByteBuffer])
    case close(DeliveryCloseReason)
}

/// One delivery connection: its user, its subscriptions and its bounded queue of frames.
/// The hub changes it under its lock; the connection's writer drains it.
public final class DeliverySession: Sendable {
    /// The connection id, as the registry stores it.
    public let id: String
    /// The authenticated user.
    public let user: String
    let state = Mutex(State())

    init(id: String, user: String) {
        self.id = id
        self.user = user
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
        var outputWaiter: CheckedContinuation<Void, Never>?
        var closeWaiters: [CheckedContinuation<DeliveryCloseReason, Never>] = []

        /// Queues a frame and wakes the writer; false when that passes the bounds.
        mutating func enqueue(_ frame: ByteBuffer, limits: DeliveryConfiguration) -> Bool {
            guard closed == nil else { return true }
            outbox.append(frame)
            queuedBytes += frame.readableBytes
            wakeWriter()
            return outbox.count <= limits.maxQueuedFrames && queuedBytes <= limits.maxQueuedBytes
        }

        mutating func wakeWriter() {
            outputWaiter?.resume()
            outputWaiter = nil
        }

        /// Marks the session closed, drops its queue and wakes everyone waiting on it.
        mutating func close(_ reason: DeliveryCloseReason) {
            guard closed == nil else { return }
            closed = reason
            outbox.removeAll()
            queuedBytes = 0
            wakeWriter()
            for waiter in closeWaiters { waiter.resume(returning: reason) }
            closeWaiters.removeAll()
        }
    }

    /// What a live frame did to this session.
    enum OfferOutcome {
        case queued, ignored, ended, overflowed
    }

    /// Offers a live frame of a channel at `seq`. Frames the session already has are ignored;
    /// a frame past a gap sends the subscription back to resuming from the log.
    func offer(
        _ frame: ByteBuffer, channelID: String, seq: SequenceNumber, endsMembership: Bool,
        limits: DeliveryConfiguration
    ) -> OfferOutcome {
        state.withLock { state in
            guard state.closed == nil, var subscription = state.subscriptions[channelID], subscription.live,
                seq > subscription.delivered
            else { return .ignored }
            guard seq == subscription.delivered + 1 else {
                subscription.live = false
                state.subscriptions[channelID] = subscription
                state.wakeWriter()
                return .ignored
            }
            subscription.delivered = seq
            state.subscriptions[channelID] = subscription
            var fits = state.enqueue(frame, limits: limits)
            if endsMembership, seq > subscription.checkedAt {
                state.subscriptions[channelID] = nil
                fits =
                    state.enqueue(
                        DeliveryFrame.unsubscribed(channelID: channelID, reason: "membership ended"),
                        limits: limits)
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

    /// Returns once the session is closed, with the reason.
    public func waitUntilClosed() async -> DeliveryCloseReason {
        await withCheckedContinuation { continuation in
            let reason: DeliveryCloseReason? = state.withLock { state in
                if let closed = state.closed { return closed }
                state.closeWaiters.append(continuation)
                return nil
            }
            if let reason { continuation.resume(returning: reason) }
        }
    }

    /// Waits until the writer has something to do (or the task is cancelled).
    func waitForWork() async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let ready = state.withLock { state in
                    if Task.isCancelled || state.closed != nil || !state.outbox.isEmpty
                        || state.subscriptions.values.contains(where: { !$0.live })
                    {
                        return true
                    }
                    state.outputWaiter?.resume()
                    state.outputWaiter = continuation
                    return false
                }
                if ready { continuation.resume() }
            }
        } onCancel: {
            state.withLock { $0.wakeWriter() }
        }
    }

    /// The channels the session subscribes to.
    public var channels: [String] {
        state.withLock { Array($0.subscriptions.keys) }
    }
}
