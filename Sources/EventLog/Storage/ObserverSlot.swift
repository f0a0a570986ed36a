import Synchronization

/// One callback, set (or replaced) at any time and called from any thread: a metrics hook.
///
/// The callback lives in a class box. A closure kept straight in a `Mutex` is converted to and
/// from the `Mutex`'s generic representation by every `withLock`, and Swift does that by
/// wrapping it in another reabstraction thunk each time, stored back into the `Mutex`: each
/// call then runs every thunk of the calls before it, and a long-running server slows down
/// until its stack overflows (swiftlang/swift#91348; seen here in release builds too, and
/// `NIOLockedValueBox` does the same).
public final class ObserverSlot<Value: Sendable>: Sendable {
    private final class Box: Sendable {
        let observer: @Sendable (Value) -> Void
        init(_ observer: @escaping @Sendable (Value) -> Void) { self.observer = observer }
    }

    private let box = Mutex<Box?>(nil)

    public init() {}

    /// Sets the callback, replacing any earlier one.
    public func set(_ observer: @escaping @Sendable (Value) -> Void) {
        let box = Box(observer)
        self.box.withLock { $0 = box }
    }

    /// Calls the callback, if one is set, outside the lock.
    public func callAsFunction(_ value: @autoclosure () -> Value) {
        box.withLock { $0 }?.observer(value())
    }
}
