import Foundation
import XCTest
@testable import EDIDrop

/// The text and HTML reports in both languages: same codes, translated words, escaped HTML.
final class ReportLanguageTests: XCTestCase {
    private func report(errors: [Diagnostic], documents: Int = 41, name: String = "zamówienia.csv") -> RejectionReport {
        let file = FileRecord(id: 9, channel: .orders, name: name, workName: name, sourcePath: nil, size: 10,
                              sha256: String(repeating: "0", count: 64), format: "orders-csv", encoding: "windows-1250",
                              state: .rejected, destDir: "rejected", storedName: name, duplicateOf: nil,
                              documents: documents, errorCount: errors.count, receivedAt: "2026-11-27T10:00:00.000Z",
                              processedAt: "2026-11-27T10:00:00.000Z", archivedAt: nil, superseded: false)
        var r = RejectionReport(file: file, diagnostics: errors,
                                sourceLines: [4: "C-3;Jan <b>Kos</b>;4006381333932;1"], duplicateOfName: nil)
        r.encodingFallback = true
        return r
    }

    private let errors = [
        Diagnostic(.invalidEAN, line: 4, column: 20, field: "ean", value: "4006381333932", message: "ean check digit is wrong",
                   orderID: "C-3", hint: "EAN check digit should be 1"),
        Diagnostic(.invalidQuantity, line: 7, column: 5, field: "quantity", value: "0",
                   message: "quantity must be a whole number greater than 0", orderID: "C-5"),
        Diagnostic(.invalidQuantity, line: 8, column: 5, field: "quantity", value: "-1",
                   message: "quantity must be a whole number greater than 0", orderID: "C-5"),
    ]

    func testEnglishSummaryGroupsAndFix() {
        let text = report(errors: errors).text(language: .en)
        XCTAssertTrue(text.contains("REJECTED: 3 errors in 2 of 41 orders; nothing from this file was sent."), text)
        XCTAssertTrue(text.contains("Order C-5 — line 7\n  2. INVALID_QUANTITY, line 7, column 5, field quantity\n"), text)
        XCTAssertTrue(text.contains("     fix: EAN check digit should be 1"), text)
        XCTAssertTrue(text.contains("windows-1250 (not valid UTF-8, no BOM: read with the configured encoding)"), text)
    }

    func testPolishWordsSameCodes() {
        let text = report(errors: errors).text(language: .pl)
        XCTAssertTrue(text.hasPrefix("Raport edidrop dla pliku zamówienia.csv\n"), text)
        XCTAssertTrue(text.contains("ODRZUCONY: 3 błędy w 2 zamówieniach (na 41); nic z tego pliku nie zostało wysłane."), text)
        XCTAssertTrue(text.contains("Zamówienie C-3 — wiersz 4\n  1. INVALID_EAN, wiersz 4, kolumna 20, pole ean\n"), text)
        XCTAssertTrue(text.contains("     nieprawidłowy kod EAN/GTIN\n     (szczegóły: ean check digit is wrong)\n"), text)
        XCTAssertTrue(text.contains("     poprawka: cyfra kontrolna EAN powinna wynosić 1\n"), text)
        XCTAssertTrue(text.contains("Jak wysłać ponownie"), text)
        XCTAssertTrue(text.contains("(plik nie jest w UTF-8 i nie ma BOM: odczytany w kodowaniu z konfiguracji)"), text)
        // JSON is the same in every language.
        XCTAssertEqual(report(errors: errors).json(), report(errors: errors).json())
        XCTAssertTrue(report(errors: errors).json().contains("\"code\": \"INVALID_EAN\""))
    }

    func testPolishPluralForms() {
        let l = ReportLanguage.pl
        XCTAssertEqual(l.errors(1), "1 błąd")
        XCTAssertEqual(l.errors(3), "3 błędy")
        XCTAssertEqual(l.errors(5), "5 błędów")
        XCTAssertEqual(l.errors(12), "12 błędów")
        XCTAssertEqual(l.errors(22), "22 błędy")
        XCTAssertEqual(l.errors(25), "25 błędów")
    }

    func testHTMLReportEscapesAndHighlights() {
        let html = report(errors: errors, name: "<script>x</script>.csv").html(language: .en)
        XCTAssertFalse(html.contains("<script>x</script>"), "the file name is escaped")
        XCTAssertTrue(html.contains("&lt;script&gt;x&lt;/script&gt;.csv"))
        XCTAssertFalse(html.contains("<b>Kos</b>"), "quoted lines are escaped")
        XCTAssertTrue(html.contains("Jan &lt;b&gt;Kos&lt;/b&gt;;<mark>4006381333932</mark>;1"), html)
        XCTAssertTrue(html.contains("<code class=\"code\">INVALID_EAN</code>"))
        XCTAssertTrue(html.contains("EAN check digit should be 1"))
        let pl = report(errors: errors).html(language: .pl)
        XCTAssertTrue(pl.contains("<html lang=\"pl\">"))
        XCTAssertTrue(pl.contains("ODRZUCONY"))
    }
}
