import Foundation
import HandOff
import XCTest

/// `ReadAhead.close()` hands back what the producer handed over but the consumer never
/// took: the deliverer removes the temp files of such a page, so a consumer that stops on
/// an error leaves nothing behind.
final class HandOffTests: XCTestCase {
    func testCloseReturnsWhatWasHandedOverButNotTaken() {
        let thirdPut = DispatchSemaphore(value: 0)
        let refused = LockedFlag()
        let handOff = ReadAhead<Int>(capacity: 2, threadName: "test-hand-off") { h in
            _ = h.put(1)
            _ = h.put(2)
            _ = h.put(3)           // waits until 1 is taken
            thirdPut.signal()
            if !h.put(4) { refused.set() }   // the queue is full: waits until the close
        }
        XCTAssertEqual(handOff.take(), 1)
        thirdPut.wait()
        XCTAssertEqual(handOff.close(), [2, 3])
        XCTAssertTrue(refused.value, "the put after the close is refused")
    }

    func testCloseAfterEverythingWasTakenReturnsNothing() {
        let handOff = ReadAhead<String>(capacity: 1) { h in
            for word in ["a", "b"] { guard h.put(word) else { return } }
        }
        var taken: [String] = []
        while let word = handOff.take() { taken.append(word) }
        XCTAssertEqual(taken, ["a", "b"])
        XCTAssertEqual(handOff.close(), [])
    }
}

private final class LockedFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var flag = false
    func set() { lock.lock(); flag = true; lock.unlock() }
    var value: Bool { lock.lock(); defer { lock.unlock() }; return flag }
}
