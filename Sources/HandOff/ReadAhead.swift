import Foundation

/// A bounded hand-over from one producing thread to one consumer, so that the two halves
/// of a big file's work use both cores: the producer reads, checks and renders records
/// while the consumer writes them to the ledger (`Processor`), or parses and validates
/// XML while the consumer turns it into events (`XMLStreamReader`). At most `capacity`
/// items wait, so memory stays flat whatever the size of the file.
///
/// Written here with NSCondition rather than with Swift concurrency: the consumers run
/// inside synchronous code (GRDB's write closure, a pull-style reader) that must not suspend.
public final class ReadAhead<Item>: @unchecked Sendable {
    private let condition = NSCondition()
    private var queue: [Item?] = []
    private var head = 0
    private var count = 0
    private var finished = false
    private var cancelled = false
    private let done = DispatchSemaphore(value: 0)

    /// Starts `produce` on a thread of its own. It calls `put` for each item and returns
    /// when it has nothing more (or when `put` says the consumer gave up).
    public init(capacity: Int, threadName: String = "edidrop-read-ahead",
                _ produce: @escaping @Sendable (ReadAhead<Item>) -> Void) {
        queue = Array(repeating: nil, count: max(1, capacity))
        let thread = Thread { [self] in
            produce(self)
            condition.lock()
            finished = true
            condition.broadcast()
            condition.unlock()
            done.signal()
        }
        thread.name = threadName
        thread.start()
    }

    /// Hands an item over, waiting while the queue is full. False: the consumer stopped.
    public func put(_ item: Item) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        while count == queue.count && !cancelled { condition.wait() }
        if cancelled { return false }
        queue[(head + count) % queue.count] = item
        count += 1
        condition.broadcast()
        return true
    }

    /// The next item, waiting for it; nil once the producer has finished and all is taken.
    public func take() -> Item? {
        condition.lock()
        defer { condition.unlock() }
        while count == 0 && !finished { condition.wait() }
        guard count > 0 else { return nil }
        let item = removeFirst()
        condition.broadcast()
        return item
    }

    /// The oldest item waiting; with the lock held and `count > 0`.
    private func removeFirst() -> Item? {
        let item = queue[head]
        queue[head] = nil
        head = (head + 1) % queue.count
        count -= 1
        return item
    }

    /// Stops the producer (if it still runs) and waits until its thread is done; called
    /// by the consumer on every way out, errors included, and only once. Returns what was
    /// handed over but never taken, in order, for a consumer whose items hold resources
    /// (the deliverer's temp files written ahead).
    @discardableResult
    public func close() -> [Item] {
        condition.lock()
        cancelled = true
        condition.broadcast()
        condition.unlock()
        done.wait()
        condition.lock()
        defer { condition.unlock() }
        var left: [Item] = []
        while count > 0 {
            if let item = removeFirst() { left.append(item) }
        }
        return left
    }
}
