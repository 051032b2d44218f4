import Foundation
import XCTest
@testable import EDIDrop

final class RejectionReportTests: XCTestCase {
    private func record(name: String = "orders-0412.csv", errorCount: Int, duplicateOf: Int64? = nil) -> FileRecord {
        FileRecord(id: 17, channel: .orders, name: name, workName: name, sourcePath: nil, size: 120,
                   sha256: String(repeating: "ab", count: 32), format: "orders-csv", encoding: "UTF-8",
                   state: .rejected, destDir: "rejected", storedName: name, duplicateOf: duplicateOf,
                   documents: 0, errorCount: errorCount, receivedAt: "2026-11-27T10:30:00.000Z",
                   processedAt: "2026-11-27T10:30:01.000Z", archivedAt: nil, superseded: false)
    }

    /// The quoted line and the marker line under it, without their "   N | " gutters.
    private func quotedAndMarker(_ text: String, line: Int) -> (quoted: [Character], marker: [Character])? {
        let rows = text.components(separatedBy: "\n")
        let prefix = "     \(line) | "
        guard let i = rows.firstIndex(where: { $0.hasPrefix(prefix) }), i + 1 < rows.count else { return nil }
        let markerPrefix = "     " + String(repeating: " ", count: String(line).count) + " | "
        guard rows[i + 1].hasPrefix(markerPrefix) else { return nil }
        return (Array(rows[i].dropFirst(prefix.count)), Array(rows[i + 1].dropFirst(markerPrefix.count)))
    }

    /// Checks that the carets stand exactly under `value` in the quoted line.
    private func assertMarker(_ text: String, line: Int, under value: String, file: StaticString = #filePath, lineNo: UInt = #line) {
        guard let (quoted, marker) = quotedAndMarker(text, line: line) else {
            XCTFail("no quoted line \(line) with a marker in:\n\(text)", file: file, line: lineNo)
            return
        }
        guard let start = marker.firstIndex(of: "^") else {
            XCTFail("no marker", file: file, line: lineNo)
            return
        }
        XCTAssertTrue(marker[..<start].allSatisfy { $0 == " " }, file: file, line: lineNo)
        let carets = marker[start...].prefix { $0 == "^" }.count
        XCTAssertEqual(carets, value.count, "one caret per character of the value", file: file, line: lineNo)
        let under = quoted.count >= start + carets ? String(quoted[start..<(start + carets)]) : "<past the end>"
        XCTAssertEqual(under, value, "marker stands under \(under.debugDescription) in \(String(quoted).debugDescription)", file: file, line: lineNo)
    }

    func testTextReportSummaryAndMarkerUnderTheColumn() {
        let line3 = "S-1;;Anna;;;Długa 5;Kraków;31147;PL;;;;;MUG-001;5901234123458;2;;;"
        let postcodeColumn = 28
        XCTAssertEqual(Array(line3)[postcodeColumn - 1], "3")
        let eanColumn = line3.distance(from: line3.startIndex, to: line3.range(of: "5901234123458")!.lowerBound) + 1
        XCTAssertEqual(String(Array(line3)[(eanColumn - 1)..<(eanColumn + 12)]), "5901234123458")
        let diagnostics = [
            Diagnostic(.invalidPostcode, line: 3, column: postcodeColumn, field: "postcode", value: "31147",
                       message: "a PL postcode must be NN-NNN", orderID: "S-1", hint: "write it as 31-147"),
            Diagnostic(.invalidEAN, line: 3, column: eanColumn, field: "ean", value: "5901234123458",
                       message: "ean check digit is wrong", orderID: "S-1", hint: "EAN check digit should be 7"),
            Diagnostic(.missingField, line: 5, field: "customer_name", message: "customer_name is required", orderID: "S-2"),
        ]
        let report = RejectionReport(file: record(errorCount: 3), diagnostics: diagnostics,
                                     sourceLines: [3: line3, 5: "S-2;;;;"], duplicateOfName: nil)
        let text = report.text()
        XCTAssertTrue(text.hasPrefix("edidrop report for orders-0412.csv\n"), text)
        XCTAssertTrue(text.contains("REJECTED: 3 errors in 2 orders; nothing from this file was sent.\n"), text)
        XCTAssertTrue(text.contains("ledger id  17"))
        XCTAssertTrue(text.contains("Order S-1 — line 3\n  1. INVALID_POSTCODE, line 3, column 28, field postcode\n"), text)
        XCTAssertTrue(text.contains("     value: \"31147\"\n"))
        XCTAssertTrue(text.contains("     fix: write it as 31-147\n"))
        XCTAssertTrue(text.contains("  2. INVALID_EAN, line 3, column \(eanColumn), field ean\n"), text)
        XCTAssertTrue(text.contains("     fix: EAN check digit should be 7\n"))
        XCTAssertTrue(text.contains("Order S-2 — line 5\n  3. MISSING_FIELD, line 5, field customer_name\n"), text)
        XCTAssertTrue(text.contains("     5 | S-2;;;;\n"), "the line is quoted even without a column")
        XCTAssertTrue(text.contains("How to resubmit"))
        XCTAssertTrue(text.contains("DUPLICATE_FILE"), "explains that the same bytes are refused")

        // Both errors of line 3 have their own marker.
        let blocks = text.components(separatedBy: "\n\n")
        let postcodeBlock = blocks.first { $0.contains("1. INVALID_POSTCODE") } ?? ""
        let eanBlock = blocks.first { $0.contains("2. INVALID_EAN") } ?? ""
        assertMarker(postcodeBlock, line: 3, under: "31147")
        assertMarker(eanBlock, line: 3, under: "5901234123458")
    }

    func testSingularSummaryAndUnlistedErrors() {
        let one = RejectionReport(file: record(errorCount: 1),
                                  diagnostics: [Diagnostic(.emptyFile, message: "the file is empty")],
                                  sourceLines: [:], duplicateOfName: nil)
        XCTAssertTrue(one.text().contains("REJECTED: 1 error; nothing from this file was sent.\n"), one.text())

        let many = RejectionReport(file: record(errorCount: 1500),
                                   diagnostics: [Diagnostic(.invalidQuantity, line: 2, message: "q", orderID: "A")],
                                   sourceLines: [:], duplicateOfName: nil)
        XCTAssertTrue(many.text().contains("REJECTED: 1500 errors in 1 order;"), many.text())
        XCTAssertTrue(many.text().contains("… and 1499 more errors not listed."), many.text())
    }

    func testDuplicateReport() {
        let report = RejectionReport(file: record(name: "again.csv", errorCount: 1, duplicateOf: 3),
                                     diagnostics: [Diagnostic(.duplicateFile, message: "the same content was already received as file 3 (orders.csv)")],
                                     sourceLines: [:], duplicateOfName: "orders.csv")
        let text = report.text()
        XCTAssertTrue(text.contains("REJECTED: the same bytes were already received as file 3 (orders.csv). Nothing from this file was sent."), text)
        XCTAssertTrue(text.contains("  1. DUPLICATE_FILE\n"), text)
        XCTAssertTrue(report.json().contains("\"duplicateOf\": 3"), report.json())
    }

    func testLongLinesAreCutToAWindowAroundTheColumn() {
        let value = "BAD-VALUE"
        let before = String(repeating: "a", count: 240)
        let after = String(repeating: "z", count: 300)
        let long = before + value + after
        let report = RejectionReport(file: record(errorCount: 1),
                                     diagnostics: [Diagnostic(.invalidValue, line: 2, column: 241, field: "sku", value: value, message: "bad")],
                                     sourceLines: [2: long], duplicateOfName: nil)
        let text = report.text()
        guard let (quoted, _) = quotedAndMarker(text, line: 2) else {
            return XCTFail("no quoted line:\n\(text)")
        }
        XCTAssertLessThanOrEqual(quoted.count, 101, "a window, not the whole line")
        XCTAssertEqual(quoted.first, "…", "shows that the start was cut")
        XCTAssertTrue(String(quoted).contains(value))
        assertMarker(text, line: 2, under: value)

        // Near the start no ellipsis is needed.
        let early = RejectionReport(file: record(errorCount: 1),
                                    diagnostics: [Diagnostic(.invalidValue, line: 2, column: 3, field: "sku", value: "xy", message: "bad")],
                                    sourceLines: [2: "abxy" + String(repeating: "-", count: 500)], duplicateOfName: nil)
        let earlyText = early.text()
        XCTAssertNotEqual(quotedAndMarker(earlyText, line: 2)?.quoted.first, "…")
        XCTAssertLessThanOrEqual(quotedAndMarker(earlyText, line: 2)?.quoted.count ?? 999, 100)
        assertMarker(earlyText, line: 2, under: "xy")
    }

    func testControlCharactersAreMadeVisible() {
        let evil = "Anna\u{1B}[2J\u{7}\u{0}"
        let report = RejectionReport(file: record(name: "x.csv", errorCount: 1),
                                     diagnostics: [Diagnostic(.invalidValue, line: 2, column: 5, field: "customer_name", value: evil,
                                                              message: "customer_name contains a control character")],
                                     sourceLines: [2: "S-1;" + evil + ";\tx"], duplicateOfName: nil)
        let text = report.text()
        XCTAssertFalse(text.unicodeScalars.contains { ($0.value < 0x20 && $0 != "\n") || $0.value == 0x7F },
                       "no raw control characters: \(text.debugDescription)")
        XCTAssertTrue(text.contains("value: \"Anna\\u{1b}[2J\\u{7}\\u{0}\""), text)
        XCTAssertTrue(text.contains("   2 | S-1;Anna\\u{1b}[2J\\u{7}\\u{0};→x\n"), text)
        XCTAssertEqual(RejectionReport.visible("a\tb\r\n\u{7F}ż"), "a→b\\u{d}\\u{a}\\u{7f}ż")
    }

    /// File names may hold any byte but '/' and NUL, and an order id or a message may quote
    /// a raw value from the file (the validator refuses such an id, but the finding about it
    /// carries it as its orderID; INCONSISTENT_ORDER's message quotes the other row's value).
    func testFileNameOrderIDAndMessageWithControlCharactersAreMadeVisible() {
        let report = RejectionReport(file: record(name: "orders\u{1B}[2J.csv", errorCount: 2),
                                     diagnostics: [
                                        Diagnostic(.invalidValue, line: 2, field: "order_id", value: "S-\u{1B}[2J",
                                                   message: "order_id contains a control character", orderID: "S-\u{1B}[2J"),
                                        Diagnostic(.inconsistentOrder, line: 3, field: "city", value: "B",
                                                   message: "rows of order S-1 disagree on city: line 2 has \"A\u{7}\"", orderID: "S-1"),
                                     ],
                                     sourceLines: [:], duplicateOfName: nil)
        let text = report.text()
        XCTAssertFalse(text.unicodeScalars.contains { ($0.value < 0x20 && $0 != "\n") || $0.value == 0x7F },
                       "raw escape in the text report: \(text.debugDescription)")
    }

    /// A control character earlier on the line is shown as several characters; the marker
    /// must still stand under the offending field.
    func testMarkerStaysUnderTheFieldAfterAControlCharacter() {
        let line = "S-1;Anna\u{1}Kowalska;Kraków;0"
        let column = line.count   // the last character, 1-based
        XCTAssertEqual(line.last, "0")
        let report = RejectionReport(file: record(errorCount: 1),
                                     diagnostics: [Diagnostic(.invalidQuantity, line: 2, column: column, field: "quantity", value: "0", message: "q")],
                                     sourceLines: [2: line], duplicateOfName: nil)
        assertMarker(report.text(), line: 2, under: "0")
    }

    func testJSONReport() throws {
        let diagnostics = [
            Diagnostic(.invalidQuantity, line: 4, column: 17, field: "quantity", value: "-2",
                       message: "quantity must be a whole number greater than 0", orderID: "S-1"),
            Diagnostic(.invalidValue, line: 5, column: nil, field: "notes", value: "a\"b\\c\nd\u{1}",
                       message: "odd \"value\"", hint: "fix it"),
        ]
        let report = RejectionReport(file: record(name: "zamówienia \"nowe\".csv", errorCount: 2), diagnostics: diagnostics,
                                     sourceLines: [:], duplicateOfName: nil)
        let json = report.json()
        XCTAssertTrue(json.hasSuffix("}\n"))
        XCTAssertTrue(json.contains("\"value\": \"a\\\"b\\\\c\\nd\\u0001\""), json)
        XCTAssertTrue(json.contains("\"file\": \"zamówienia \\\"nowe\\\".csv\""), json)

        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        XCTAssertEqual(object["file"] as? String, "zamówienia \"nowe\".csv")
        XCTAssertEqual(object["sha256"] as? String, String(repeating: "ab", count: 32))
        XCTAssertEqual(object["channel"] as? String, "orders")
        XCTAssertEqual(object["receivedAt"] as? String, "2026-11-27T10:30:00.000Z")
        XCTAssertEqual(object["status"] as? String, "rejected")
        XCTAssertEqual(object["errorCount"] as? Int, 2)
        XCTAssertNil(object["duplicateOf"])
        let errors = try XCTUnwrap(object["errors"] as? [[String: Any]])
        XCTAssertEqual(errors.count, 2)
        XCTAssertEqual(errors[0]["code"] as? String, "INVALID_QUANTITY")
        XCTAssertEqual(errors[0]["line"] as? Int, 4)
        XCTAssertEqual(errors[0]["column"] as? Int, 17)
        XCTAssertEqual(errors[0]["field"] as? String, "quantity")
        XCTAssertEqual(errors[0]["value"] as? String, "-2")
        XCTAssertEqual(errors[0]["orderId"] as? String, "S-1")
        XCTAssertTrue(errors[1]["column"] is NSNull, "an unknown column is an explicit null")
        XCTAssertEqual(errors[1]["value"] as? String, "a\"b\\c\nd\u{1}")
        XCTAssertEqual(errors[1]["hint"] as? String, "fix it")

        // The keys of DESIGN.md come first, in its order.
        let keys = ["\"file\"", "\"sha256\"", "\"channel\"", "\"receivedAt\"", "\"status\"", "\"errors\""]
        let positions = keys.map { json.range(of: $0)?.lowerBound }
        XCTAssertFalse(positions.contains(nil))
        XCTAssertEqual(positions.compactMap { $0 }, positions.compactMap { $0 }.sorted())
        let errorKeys = ["\"code\"", "\"line\"", "\"column\"", "\"field\"", "\"value\"", "\"message\""]
        let errorsStart = json.range(of: "\"errors\"")!.upperBound
        let errorPositions = errorKeys.map { json.range(of: $0, range: errorsStart..<json.endIndex)!.lowerBound }
        XCTAssertEqual(errorPositions, errorPositions.sorted())
    }
}

final class SourceLinesTests: XCTestCase {
    func testCollectsChosenLinesWhateverTheLineEnds() {
        let dir = FixtureFolder("edidrop-lines")
        let path = dir.join("f.csv")
        Fixture.write("one\r\ntwo\nthree\rfour\n\nsix", to: path)
        let lines = SourceLines.collect(path: path, lines: [2, 3, 4, 5, 6, 9], encoding: nil)
        XCTAssertEqual(lines, [2: "two", 3: "three", 4: "four", 5: "", 6: "six"])
    }

    func testDecodesAsTheFileWasRead() {
        let dir = FixtureFolder("edidrop-lines")
        let path = dir.join("f.csv")
        Fixture.write(Array("a\n".utf8) + [0xA3, 0xF3, 0x64, 0x9F] + Array("\n".utf8), to: path)
        let lines = SourceLines.collect(path: path, lines: [2], encoding: EncodingDetection(encoding: .windows1250, bomLength: 0, fallbackUsed: true))
        XCTAssertEqual(lines, [2: "Łódź"])
    }
}
