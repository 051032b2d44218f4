import Foundation
import XCTest
@testable import EDIDrop

// Epoch seconds were taken from `date -u -d ... +%s`, not from the code under test.
final class TimestampTests: XCTestCase {
    private func at(_ seconds: Double) -> Date { Date(timeIntervalSince1970: seconds) }

    func testISO() {
        XCTAssertEqual(Timestamp.iso(at(0)), "1970-01-01T00:00:00.000Z")
        XCTAssertEqual(Timestamp.iso(at(1_795_775_400)), "2026-11-27T10:30:00.000Z")
        XCTAssertEqual(Timestamp.iso(at(1_795_775_400.25)), "2026-11-27T10:30:00.250Z")
        XCTAssertEqual(Timestamp.iso(at(1_795_775_400.999_9)), "2026-11-27T10:30:00.999Z", "milliseconds are cut, not rounded up")
        XCTAssertEqual(Timestamp.iso(at(951_868_799)), "2000-02-29T23:59:59.000Z")
        XCTAssertEqual(Timestamp.iso(at(946_684_799)), "1999-12-31T23:59:59.000Z")
        XCTAssertEqual(Timestamp.iso(at(-1)), "1969-12-31T23:59:59.000Z")
    }

    func testDigitsArePaddedToTheirWidthAndNeverCut() {
        func text(_ value: Int, _ width: Int) -> String {
            var out: [UInt8] = []
            Timestamp.digits(value, width, &out)
            return String(decoding: out, as: UTF8.self)
        }
        XCTAssertEqual(text(0, 1), "0")
        XCTAssertEqual(text(0, 3), "000")
        XCTAssertEqual(text(7, 2), "07")
        XCTAssertEqual(text(10, 2), "10")
        XCTAssertEqual(text(99, 2), "99")
        XCTAssertEqual(text(100, 2), "100")
        XCTAssertEqual(text(2026, 4), "2026")
        XCTAssertEqual(text(12345, 4), "12345")
        XCTAssertEqual(text(-42, 4), "-0042")
        XCTAssertEqual(text(Int.max, 1), String(Int.max))
    }

    func testISOSortsLikeTime() {
        let times: [Double] = [0, 9.5, 10, 946_684_799, 951_868_799, 1_795_775_400, 4_102_444_800]
        let texts = times.map { Timestamp.iso(at($0)) }
        XCTAssertEqual(texts, texts.sorted())
    }

    func testCompact() {
        XCTAssertEqual(Timestamp.compact(at(1_795_775_400)), "20261127T103000Z")
        XCTAssertEqual(Timestamp.compact(at(1_795_775_400.9)), "20261127T103000Z")
        XCTAssertEqual(Timestamp.compact(at(951_868_799)), "20000229T235959Z")
        XCTAssertEqual(Timestamp.compact(at(0)), "19700101T000000Z")
    }

    func testLocalDay() throws {
        let utc = try XCTUnwrap(TimeZone(identifier: "UTC"))
        let warsaw = try XCTUnwrap(TimeZone(identifier: "Europe/Warsaw"))
        let newYork = try XCTUnwrap(TimeZone(identifier: "America/New_York"))
        // 2026-11-26T23:30:00Z: already the 27th in Warsaw (UTC+1 in winter).
        XCTAssertEqual(Timestamp.localDay(at(1_795_735_800), timeZone: utc), "2026-11-26")
        XCTAssertEqual(Timestamp.localDay(at(1_795_735_800), timeZone: warsaw), "2026-11-27")
        // 2026-06-30T22:30:00Z: 00:30 on 1 July in Warsaw (UTC+2 in summer).
        XCTAssertEqual(Timestamp.localDay(at(1_782_858_600), timeZone: utc), "2026-06-30")
        XCTAssertEqual(Timestamp.localDay(at(1_782_858_600), timeZone: warsaw), "2026-07-01")
        // 2026-11-27T03:00:00Z: still the 26th in New York.
        XCTAssertEqual(Timestamp.localDay(at(1_795_748_400), timeZone: newYork), "2026-11-26")
        XCTAssertEqual(Timestamp.localDay(at(1_795_748_400), timeZone: TimeZone(secondsFromGMT: 14 * 3600)!), "2026-11-27")
        XCTAssertEqual(Timestamp.localDay(at(951_868_799), timeZone: utc), "2000-02-29")
    }

    func testSystemClockIsNow() {
        let before = Date()
        let now = SystemClock().now()
        XCTAssertGreaterThanOrEqual(now, before)
        XCTAssertLessThan(now.timeIntervalSince(before), 5)
    }

    func testFixtureClockAdvances() {
        let clock = FixtureClock(at(100))
        XCTAssertEqual(clock.now(), at(100))
        clock.advance(2.5)
        XCTAssertEqual(clock.now(), at(102.5))
    }
}
