import Chat
import DequeModule
import EventLog
import Foundation
import NIOCore

extension DeliveryHub {
    /// Hands a committed record to the live subscribers of its channel. The delivery consumer
    /// group calls it for every record, in each shard's order, and `releaseWakes()` after each
    /// batch: only then are the subscribers' connections told, so each takes the batch's frames
    /// as one burst, one socket write. A record that comes again after a reset of the group is
    /// a replay: it is re-sent to whoever has it, and clients drop it by seq (docs/design.md section 3).
    public func fanOut(_ record: Record) {
        if record.stream == .chatEvents, record.type == ChatRecordType.channelRead {
            return fanOutReadMarker(record)
        }
        guard record.stream == .chatEvents, let channelID = record.channelID, let seq = record.channelSeq
        else {
            return
        }
        let replay = state.withLock { state in
            let shard = record.position.shardKey
            guard let through = state.fannedOutThrough[shard], record.seq <= through else {
                state.fannedOutThrough[shard] = record.seq
                return false
            }
            return true
        }
        let membershipEnd = MembershipEnd(record)
        // Rendered outside the lock. A subscriber that appears after this look resumes from the
        // log, which already holds this committed record, so it never needs this live frame.
        let frame = state.withLock { $0.channels[channelID] != nil } ? DeliveryFrame.record(record) : nil
        var queued = 0
        var overflowed = 0
        state.withLock { state in
            guard let frame, let index = state.channels.index(forKey: channelID) else { return }
            state.fannedOut[channelID] = max(state.fannedOut[channelID] ?? 0, seq)
            // The channel id the sessions' tables hold (see `subscribe`).
            let (channelID, subscribers) = state.channels[index]
            for session in subscribers.values {
                let ends = membershipEnd?.includes(session.user) ?? false
                switch session.offer(
                    frame, channelID: channelID, seq: seq, endsMembership: ends, replay: replay,
                    limits: configuration, wake: ends)
                {
                case .queued: queued += 1
                case .ignored: break
                case .ended:
                    queued += 1
                    state.removeSubscriber(session.id, from: channelID)
                case .overflowed: overflowed += 1
                }
            }
            // The channel's latest subscribers: a session the record removed was woken above,
            // and one that unsubscribed meanwhile was woken by its `unsubscribed` frame.
            state.heldWakes[channelID] = subscribers
        }
        statistics.recordFanOut(queued: queued, overflowed: overflowed, createdAt: record.createdAt)
    }

    /// A read marker goes to the reader's own sessions only, outside any channel's sequence:
    /// `{"type": "read", "channelId", "seq"}`.
    private func fanOutReadMarker(_ record: Record) {
        guard let read = try? JSONDecoder().decode(ReadPayload.self, from: Data(record.payload)) else {
            return
        }
        let frame = DeliveryFrame.readMarker(channelID: record.partitionKey, seq: read.seq)
        let sessions = state.withLock { $0.sessionsByUser[read.userId]?.values.map { $0 } ?? [] }
        var overflowed = 0
        for session in sessions {
            session.state.withLock { state in
                // The slow-consumer rule holds for these frames too.
                guard !state.enqueue(frame, limits: configuration) else { return }
                state.close(.slowConsumer)
                overflowed += 1
            }
        }
        statistics.recordFanOut(
            queued: sessions.count - overflowed, overflowed: overflowed, createdAt: record.createdAt)
    }

    /// Tells every connection that `fanOut` queued frames for.
    public func releaseWakes() {
        let held = state.withLock { state in
            defer { state.heldWakes.removeAll() }
            return state.heldWakes
        }
        // A session subscribed to several of the channels is woken once: the second call finds
        // its wake-up pending.
        for (_, subscribers) in held {
            for session in subscribers.values { session.state.withLock { $0.wakeWriter() } }
        }
    }

    /// Whose membership a record ends.
    enum MembershipEnd: Equatable {
        /// The channel was deleted.
        case everyone
        /// One member was removed, or left.
        case member(String)

        init?(_ record: Record) {
            switch record.type {
            case ChatRecordType.channelDeleted: self = .everyone
            case ChatRecordType.memberRemoved:
                struct Removed: Decodable { var userId: String }
                guard let removed = try? JSONDecoder().decode(Removed.self, from: Data(record.payload)) else {
                    return nil
                }
                self = .member(removed.userId)
            default: return nil
            }
        }

        func includes(_ user: String) -> Bool {
            switch self {
            case .everyone: true
            case .member(let member): member == user
            }
        }
    }

    /// What a session's connection does next: write its queued frames, else read a step of
    /// any resume (paced by how fast the connection gets frames onto the socket), else nothing
    /// until `onWork`. Never blocks.
    public func next(for session: DeliverySession) -> DeliveryStep {
        let step: DeliveryStep = session.state.withLock { state in
            state.workPending = false
            if let reason = state.closed { return .close(reason) }
            let resuming = state.subscriptions.first(where: { !$0.value.live })
            if !state.outbox.isEmpty {
                // Handed over whole, without a copy.
                let frames = state.outbox
                state.outbox = Deque()
                state.queuedBytes = 0
                return .frames(frames, resumeNext: resuming != nil)
            }
            if let (channelID, subscription) = resuming {
                return .resume(DeliveryResume(channelID: channelID, subscription: subscription))
            }
            return .idle
        }
        if case .frames(let frames, _) = step { statistics.framesSent.add(frames.count, ordering: .relaxed) }
        return step
    }

    /// Reads the page `step` names and returns its frames (possibly none: then ask `next` again).
    public func resume(_ step: DeliveryResume, of session: DeliverySession) async throws -> [ByteBuffer] {
        let frames = try await resume(session, channelID: step.channelID, from: step.subscription)
        statistics.framesSent.add(frames.count, ordering: .relaxed)
        return frames
    }

    /// Reads one page of a resuming subscription from the log. A short page that reaches what
    /// the fan-out has passed switches the subscription to live frames.
    private func resume(
        _ session: DeliverySession, channelID: String, from subscription: DeliverySession.Subscription
    ) async throws -> [ByteBuffer] {
        let records = try await chat.log.channelRecords(
            stream: .chatEvents, channelID: channelID, after: subscription.delivered,
            limit: configuration.replayPageSize)
        var frames: [ByteBuffer] = []
        frames.reserveCapacity(records.count + 1)
        var delivered = subscription.delivered
        var ended = false
        for record in records {
            frames.append(DeliveryFrame.record(record))
            delivered = record.channelSeq ?? delivered
            if MembershipEnd(record)?.includes(session.user) == true, delivered > subscription.checkedAt {
                ended = true
                break
            }
        }
        return state.withLock { state in
            session.state.withLock { sessionState in
                guard var current = sessionState.subscriptions[channelID],
                    current.generation == subscription.generation, !current.live,
                    current.delivered == subscription.delivered
                else { return [] }
                if ended {
                    sessionState.subscriptions[channelID] = nil
                    state.removeSubscriber(session.id, from: channelID)
                    frames.append(
                        DeliveryFrame.unsubscribed(channelID: channelID, reason: "membership ended"))
                    return frames
                }
                let fannedOut = state.fannedOut[channelID] ?? 0
                current.delivered = delivered
                if records.isEmpty {
                    // Nothing more in the log: anything fanned out beyond is gone to retention.
                    current.delivered = max(delivered, fannedOut)
                    current.live = true
                } else if records.count < configuration.replayPageSize, delivered >= fannedOut {
                    current.live = true
                }
                sessionState.subscriptions[channelID] = current
                return frames
            }
        }
    }
}
