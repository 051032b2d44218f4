import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Named points of the exactly-once protocol where a test can make the process die
/// with SIGKILL, to prove that recovery loses nothing and sends nothing twice.
public enum CrashPoint: String, CaseIterable, Sendable {
    case afterClaim = "after-claim"
    case afterHash = "after-hash"
    case afterCommit = "after-commit"
    case afterTempWrite = "after-temp-write"
    case afterMarkDelivering = "after-mark-delivering"
    case afterRename = "after-rename"
    case beforeFolderSync = "before-folder-fsync"
    case afterMarkDelivered = "after-mark-delivered"
    case beforeArchive = "before-archive"
    case afterArchive = "after-archive"
    case duringRecovery = "during-recovery"
}

/// Which point, if any, kills the process, and at which hit. Built from the environment
/// variable `EDIDROP_TEST_CRASH_AT=POINT[#N]` by the command line only; its long, explicit
/// name keeps it from being set by accident, and nothing else can arm it.
public struct CrashSwitch: Sendable {
    public static let environmentVariable = "EDIDROP_TEST_CRASH_AT"
    private let point: CrashPoint?
    private let onHit: Int
    private let counter = Counter()

    public static let disarmed = CrashSwitch(point: nil, onHit: 1)

    public init(point: CrashPoint?, onHit: Int = 1) {
        self.point = point
        self.onHit = max(1, onHit)
    }

    /// Parses `POINT` or `POINT#N`; nil for an unknown point.
    public init?(specification: String) {
        let parts = specification.split(separator: "#", maxSplits: 1)
        guard let p = CrashPoint(rawValue: String(parts[0])) else { return nil }
        let n = parts.count > 1 ? Int(parts[1]) ?? 1 : 1
        self.init(point: p, onHit: n)
    }

    public func reached(_ p: CrashPoint) {
        guard p == point else { return }
        if counter.increment() >= onHit {
            kill(getpid(), SIGKILL)
        }
    }

    /// Locked: the deliverer reaches its rename points on a thread of its own.
    private final class Counter: @unchecked Sendable {
        private let lock = NSLock()
        private var value = 0
        func increment() -> Int {
            lock.lock()
            defer { lock.unlock() }
            value += 1
            return value
        }
    }
}
