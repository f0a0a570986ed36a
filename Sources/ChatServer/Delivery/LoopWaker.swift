import NIOCore
import Synchronization

/// Wakes the delivery connections of one event loop with one task on it, however many the
/// hub wakes at once: a fan-out to ten thousand subscribers schedules a task per event loop,
/// not one per socket.
final class LoopWaker: Sendable {
    private let loop: any EventLoop
    private let pending = Mutex(Pending())

    private struct Pending {
        var connections: [NIOLoopBound<DeliveryConnection>] = []
        var scheduled = false
    }

    private init(loop: any EventLoop) {
        self.loop = loop
    }

    /// Has `connection` drain on its event loop soon.
    func wake(_ connection: NIOLoopBound<DeliveryConnection>) {
        let schedule = pending.withLock { pending in
            pending.connections.append(connection)
            defer { pending.scheduled = true }
            return !pending.scheduled
        }
        if schedule { loop.execute { self.run() } }
    }

    private func run() {
        let connections = pending.withLock { pending in
            pending.scheduled = false
            defer { pending.connections.removeAll(keepingCapacity: true) }
            return pending.connections
        }
        for connection in connections { connection.value.drain() }
    }

    /// One waker per event loop.
    final class Registry: Sendable {
        private let wakers = Mutex<[ObjectIdentifier: LoopWaker]>([:])

        func waker(for loop: any EventLoop) -> LoopWaker {
            wakers.withLock { wakers in
                if let waker = wakers[ObjectIdentifier(loop)] { return waker }
                let waker = LoopWaker(loop: loop)
                wakers[ObjectIdentifier(loop)] = waker
                return waker
            }
        }
    }
}
