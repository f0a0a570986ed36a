import Synchronization

/// Ends a wait for records early, from outside the waiting task: a consumer group's shard
/// task waits on one, and a reset request fires it.
///
/// A fire that finds no wait is kept until the next wait begins, which then returns at once:
/// a fire between a waiter's last look at its reason to wake and its wait is never lost. One
/// wait at a time uses an interrupt.
public final class WaitInterrupt: Sendable {
    private enum State {
        case idle
        case fired
        case armed(@Sendable () -> Void)
    }

    private let state = Mutex(State.idle)

    public init() {}

    /// Ends the wait in progress, or the next one.
    public func fire() {
        let action: (@Sendable () -> Void)? = state.withLock { state in
            guard case .armed(let action) = state else {
                state = .fired
                return nil
            }
            state = .idle
            return action
        }
        action?()
    }

    /// Runs `action` on the next fire, or at once (returning false) if one is kept.
    package func arm(_ action: @escaping @Sendable () -> Void) -> Bool {
        state.withLock { state in
            if case .fired = state {
                state = .idle
                return false
            }
            state = .armed(action)
            return true
        }
    }

    /// Forgets the armed action: the wait it belonged to has ended.
    package func disarm() {
        state.withLock { state in
            if case .armed = state { state = .idle }
        }
    }
}
