import Foundation
import XCTest

/// The daemon killed with SIGKILL at random moments, many times, over a few hundred files.
/// The seed is printed, and `EDIDROP_SOAK_SEED` replays a run.
final class SoakTests: XCTestCase {
    /// A small, seedable generator (SplitMix64), so a failing run can be replayed exactly.
    struct SeededRandom: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    func testKillNineAtRandomMomentsLosesAndDuplicatesNothing() throws {
        let seed = ProcessInfo.processInfo.environment["EDIDROP_SOAK_SEED"].flatMap(UInt64.init) ?? UInt64.random(in: 1...UInt64.max / 2)
        print("soak seed: \(seed) (replay with EDIDROP_SOAK_SEED=\(seed))")
        var rng = SeededRandom(state: seed)
        let spool = try TestSpool(configuration: "[intake]\npoll_interval = 0.05\nsettle = 0\n")

        var inputs: [String] = []
        var expected = Set<String>()
        // Enough files that the daemon, taking them in batches, is killed many times
        // before it is done.
        let count = 3000
        for i in 0..<count {
            let name = String(format: "f%03d", i)
            switch i % 10 {
            case 9:   // invalid
                try spool.drop("\(name).csv", Fixtures.csvHeader + Fixtures.csvRow("K-\(i)", quantity: "0"))
            case 8:   // the same bytes as file i-2: a duplicate
                try spool.drop("\(name).csv", Fixtures.csv(["K-\(i - 2)", "K-\(i - 2)-b"]))
            case 7:
                try spool.drop("\(name).xml", Fixtures.xml(["K-\(i)"]))
                expected.insert("K-\(i)")
            default:
                try spool.drop("\(name).csv", Fixtures.csv(["K-\(i)", "K-\(i)-b"]))
                expected.formUnion(["K-\(i)", "K-\(i)-b"])
            }
            inputs.append(name + (i % 10 == 7 ? ".xml" : ".csv"))
        }

        let deadline = Date().addingTimeInterval(100)
        var kills = 0
        // Until nothing is left in the inbox or in flight in work/.
        while !(spool.files(in: "inbox").isEmpty && spool.files(in: "work/orders").isEmpty) && Date() < deadline {
            let daemon = try Edidrop.start(["--spool", spool.root, "run"], environment: ["EDIDROP_LOG_LEVEL": "error"])
            let wait = Double(Int.random(in: 30...600, using: &rng)) / 1000
            Thread.sleep(forTimeInterval: wait)
            daemon.signal(SIGKILL)
            _ = try daemon.finish(timeout: 10)
            kills += 1
        }
        print("soak: \(kills) kills with SIGKILL, \(count - spool.files(in: "inbox").count) files taken meanwhile")
        XCTAssertGreaterThan(kills, 5, "the daemon was killed many times while working")
        let last = try spool.run(["run", "--once", "--settle", "0"])
        XCTAssertEqual(last.status, 0, last.stderr)
        try spool.assertInvariants(inputs: inputs, orders: expected)
        let doctor = try spool.run(["doctor"])
        XCTAssertEqual(doctor.status, 0, doctor.stdout)
    }
}
