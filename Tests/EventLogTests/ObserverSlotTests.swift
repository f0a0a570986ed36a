import ChatlogTestSupport
import EventLog
import Synchronization
import Testing

@Suite(.timeLimit(.minutes(1))) struct ObserverSlotTests {
    /// A closure kept straight in a `Mutex` gained a reabstraction thunk on every call, so the
    /// server's commit observer ran one more thunk per commit it had made: it slowed down with
    /// uptime until its stack overflowed. The stack between a call and its observer must not
    /// grow with the calls before it.
    @Test func theThousandthCallRunsNoDeeperThanTheFirst() {
        let slot = ObserverSlot<Int>()
        let depths = Mutex<[Int]>([])
        slot.set { callerStack in
            let depth = callerStack - stackAddress()
            depths.withLock { $0.append(depth) }
        }
        for _ in 0..<1000 { slot(stackAddress()) }
        let seen = depths.withLock { $0 }
        #expect(seen.count == 1000)
        #expect(
            seen.max()! - seen.min()! < 256,
            "the stack under the observer grew by \(seen.max()! - seen.min()!) bytes")
    }

    @Test func aLaterObserverReplacesTheEarlierOneAndNoneCostsNothing() {
        let slot = ObserverSlot<Int>()
        let evaluated = Atomic<Int>(0)
        func value() -> Int {
            evaluated.add(1, ordering: .relaxed)
            return 1
        }
        slot(value())
        #expect(evaluated.load(ordering: .relaxed) == 0, "with no observer the value is not computed")
        let first = Atomic<Int>(0)
        let second = Atomic<Int>(0)
        slot.set { first.add($0, ordering: .relaxed) }
        slot(value())
        slot.set { second.add($0, ordering: .relaxed) }
        slot(value())
        #expect(first.load(ordering: .relaxed) == 1)
        #expect(second.load(ordering: .relaxed) == 1)
    }
}

/// The address of a local in a frame of its own: the difference of two calls is the stack
/// between them.
@inline(never)
private func stackAddress() -> Int {
    var local = 0
    return withUnsafeMutablePointer(to: &local) { Int(bitPattern: $0) }
}
