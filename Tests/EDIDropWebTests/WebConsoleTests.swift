import EDIDrop
@testable import EDIDropWeb
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import XCTest

/// Every route through Hummingbird's test client (no socket), on a spool filled by the
/// real pipeline.
final class WebConsoleTests: XCTestCase {
    struct Page {
        var status: Int
        var headers: HTTPFields
        var body: String
        var contentType: String { headers[.contentType] ?? "" }
        func header(_ name: String) -> String? { headers[HTTPField.Name(name)!] }
    }

    /// One request against a fresh application over `console`.
    func request(_ console: WebConsole, _ uri: String, method: HTTPRequest.Method = .get,
                 headers: HTTPFields = [:], body: String? = nil) async throws -> Page {
        let app = Application(router: console.router())
        return try await app.test(.router) { client in
            let r = try await client.execute(uri: uri, method: method, headers: headers,
                                             body: body.map { ByteBuffer(string: $0) })
            return Page(status: r.status.code, headers: r.headers, body: String(buffer: r.body))
        }
    }

    func get(_ console: WebConsole, _ uri: String, headers: HTTPFields = [:]) async throws -> Page {
        try await request(console, uri, headers: headers)
    }

    func assertHTML(_ page: Page, status: Int = 200, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(page.status, status, "status; body: \(page.body.prefix(600))", file: file, line: line)
        XCTAssertEqual(page.contentType, "text/html; charset=utf-8", file: file, line: line)
        assertSecurityHeaders(page, file: file, line: line)
        XCTAssertTrue(page.body.hasPrefix("<!DOCTYPE html>"), file: file, line: line)
    }

    func assertSecurityHeaders(_ page: Page, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(page.header("Content-Security-Policy"), "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'", file: file, line: line)
        XCTAssertEqual(page.header("X-Content-Type-Options"), "nosniff", file: file, line: line)
        XCTAssertEqual(page.header("Referrer-Policy"), "no-referrer", file: file, line: line)
    }

    static let encodedScriptOrder = "/orders/%3Cscript%3Ealert%281%29%3C%2Fscript%3E"

    // MARK: Pages

    func testDashboardShowsCountsDeliveriesAndActivity() async throws {
        let f = try WebFixture()
        let page = try await get(f.console(), "/")
        assertHTML(page)
        // Accepted: the orders file, the stock report and the shipment confirmation.
        XCTAssertTrue(page.body.contains("<div class=\"n\">3</div><div class=\"l\">accepted</div>"), page.body)
        XCTAssertTrue(page.body.contains("<div class=\"n\">1</div><div class=\"l\">rejected</div>"))
        XCTAssertTrue(page.body.contains("<div class=\"n\">1</div><div class=\"l\">shipped</div>"))
        XCTAssertTrue(page.body.contains("<div class=\"n\">1</div><div class=\"l\">sent</div>"))
        XCTAssertTrue(page.body.contains("<div class=\"n\">0</div><div class=\"l\">pending</div>"))
        XCTAssertTrue(page.body.contains("Nothing needs attention"))
        XCTAssertTrue(page.body.contains("last stock report"))
        XCTAssertTrue(page.body.contains(WebFixture.stockName))
        XCTAssertTrue(page.body.contains("<meta http-equiv=\"refresh\" content=\"10\">"))
        XCTAssertFalse(page.body.contains("<script"), "no script at all")
    }

    func testDashboardShowsWhatIsOverdue() async throws {
        let f = try WebFixture()
        var configuration = SpoolConfiguration()
        configuration.expectations.shipmentWithin = 1
        let spool = Spool(root: f.root, configuration: configuration)
        // Much later: the order sent without a confirmation is overdue.
        let later = WebConsole(spool: spool, ledger: f.ledger, clock: FixedClock(Date().addingTimeInterval(3600)))
        let page = try await get(later, "/")
        assertHTML(page)
        XCTAssertTrue(page.body.contains("Needs attention"))
        XCTAssertTrue(page.body.contains("<b>Overdue:</b> 1 order sent more than"), page.body)
        XCTAssertTrue(page.body.contains("href=\"\(Self.encodedScriptOrder)\""))
    }

    func testFilesListAndStateFilter() async throws {
        let f = try WebFixture()
        let all = try await get(f.console(), "/files")
        assertHTML(all)
        XCTAssertTrue(all.body.contains(Hostile.scriptFileNameEscaped + ".csv"))
        XCTAssertTrue(all.body.contains(Hostile.imgEscaped + ".csv"))
        XCTAssertTrue(all.body.contains("href=\"/files/\(f.acceptedID)\""))

        let rejected = try await get(f.console(), "/files?state=rejected")
        assertHTML(rejected)
        XCTAssertTrue(rejected.body.contains(Hostile.imgEscaped + ".csv"))
        XCTAssertFalse(rejected.body.contains(Hostile.scriptFileNameEscaped + ".csv"))
        XCTAssertTrue(rejected.body.contains("<a class=\"on\" href=\"/files?state=rejected\">rejected</a>"))

        let accepted = try await get(f.console(), "/files?state=accepted&channel=warehouse")
        assertHTML(accepted)
        XCTAssertTrue(accepted.body.contains(WebFixture.stockName))
        XCTAssertFalse(accepted.body.contains(Hostile.scriptFileNameEscaped + ".csv"))

        let bad = try await get(f.console(), "/files?state=lost")
        assertHTML(bad, status: 400)
        XCTAssertTrue(bad.body.contains("state must be one of: accepted, rejected"))
    }

    func testAcceptedFilePageShowsHistoryOrdersAndDeliveries() async throws {
        let f = try WebFixture()
        let page = try await get(f.console(), "/files/\(f.acceptedID)")
        assertHTML(page)
        XCTAssertTrue(page.body.contains("<h2>History</h2>"))
        XCTAssertTrue(page.body.contains("<b>received</b>"))
        XCTAssertTrue(page.body.contains("<b>accepted</b>") || page.body.contains("<b>committed</b>") || page.body.contains("<b>archived</b>"), page.body)
        XCTAssertTrue(page.body.contains("<h2>Orders (2)</h2>"))
        XCTAssertTrue(page.body.contains("href=\"\(Self.encodedScriptOrder)\""), "hostile order id percent-encoded in the link")
        XCTAssertTrue(page.body.contains("href=\"/orders/S-1\""))
        XCTAssertTrue(page.body.contains("<h2>Deliveries (2)</h2>"))
        XCTAssertFalse(page.body.contains("Retry this file"), "only rejected files can be retried")
        XCTAssertFalse(page.body.contains("<h2>Report</h2>"))
    }

    func testRejectedFilePageShowsTheReportWithTheValueHighlighted() async throws {
        let f = try WebFixture()
        let console = f.console()
        let page = try await get(console, "/files/\(f.rejectedID)")
        assertHTML(page)
        XCTAssertTrue(page.body.contains("<h2>Report</h2>"))
        XCTAssertTrue(page.body.contains("<strong>REJECTED</strong>: 1 error in 1 of 2 orders; nothing from this file was sent."), page.body)
        XCTAssertTrue(page.body.contains("<code class=\"code\">INVALID_EAN</code>"))
        XCTAssertTrue(page.body.contains("line 3, column"))
        XCTAssertTrue(page.body.contains("field <code>ean</code>"))
        XCTAssertTrue(page.body.contains("<mark>\(WebFixture.badEAN)</mark>"), "the bad value is highlighted in the quoted line")
        XCTAssertTrue(page.body.contains("<span class=\"ln\">3</span>"))
        XCTAssertTrue(page.body.contains("check digit"))
        // The retry form, with this file's CSRF token.
        XCTAssertTrue(page.body.contains("<form class=\"actions\" method=\"post\" action=\"/files/\(f.rejectedID)/retry\">"))
        XCTAssertTrue(page.body.contains("<input type=\"hidden\" name=\"csrf\" value=\"\(console.retryToken(for: f.rejectedID))\">"))
    }

    func testStockReportPageAndStockList() async throws {
        let f = try WebFixture()
        let file = try await get(f.console(), "/files/\(f.stockID)")
        assertHTML(file)
        XCTAssertTrue(file.body.contains(WebFixture.stockName))
        let stock = try await get(f.console(), "/stock")
        assertHTML(stock)
        XCTAssertTrue(stock.body.contains("<code>MUG-001</code>"))
        XCTAssertTrue(stock.body.contains("<td class=\"num\">40</td>"))
        XCTAssertTrue(stock.body.contains("<code>\(Hostile.scriptEscaped)</code>"))
    }

    func testRejectedList() async throws {
        let f = try WebFixture()
        let page = try await get(f.console(), "/rejected")
        assertHTML(page)
        XCTAssertTrue(page.body.contains("href=\"/files/\(f.rejectedID)\""))
        XCTAssertFalse(page.body.contains("href=\"/files/\(f.acceptedID)\""))
    }

    func testOrdersListAndStatusFilter() async throws {
        let f = try WebFixture()
        let all = try await get(f.console(), "/orders")
        assertHTML(all)
        XCTAssertTrue(all.body.contains("href=\"/orders/S-1\""))
        XCTAssertTrue(all.body.contains(">\(Hostile.scriptEscaped)</a>"))
        let shipped = try await get(f.console(), "/orders?status=shipped")
        assertHTML(shipped)
        XCTAssertTrue(shipped.body.contains("href=\"/orders/S-1\""))
        XCTAssertFalse(shipped.body.contains(Self.encodedScriptOrder))
        let bad = try await get(f.console(), "/orders?status=lost")
        assertHTML(bad, status: 400)
    }

    func testOrderJourney() async throws {
        let f = try WebFixture()
        let s1 = try await get(f.console(), "/orders/S-1")
        assertHTML(s1)
        XCTAssertTrue(s1.body.contains("<code>TRACK-123</code>"))
        XCTAssertTrue(s1.body.contains(" as <code>"), "the warehouse file, as markup")
        XCTAssertTrue(s1.body.contains("Anna Kowalska"))
        XCTAssertTrue(s1.body.contains("<span class=\"badge b-shipped\">shipped</span>"))
        XCTAssertTrue(s1.body.contains("href=\"/files/\(f.acceptedID)\""))

        // Any character in an id: the path segment is percent-decoded.
        let hostile = try await get(f.console(), Self.encodedScriptOrder)
        assertHTML(hostile)
        XCTAssertTrue(hostile.body.contains("<h1>Order \(Hostile.scriptEscaped) "))
        XCTAssertTrue(hostile.body.contains(Hostile.imgEscaped), "the hostile customer name, escaped")
        XCTAssertTrue(hostile.body.contains("No shipment confirmation yet."))
    }

    func testUnknownIDsAndPagesAre404() async throws {
        let f = try WebFixture()
        for uri in ["/files/999999", "/files/abc", "/orders/NO-SUCH-ORDER", "/nowhere", "/order?id=.."] {
            let page = try await get(f.console(), uri)
            assertHTML(page, status: 404)
            XCTAssertTrue(page.body.contains("<h1>Not found</h1>"), uri)
        }
        let hostile = try await get(f.console(), "/orders/%3Cb%3E" + "x")
        assertHTML(hostile, status: 404)
        XCTAssertTrue(hostile.body.contains("&lt;b&gt;x"))
        XCTAssertFalse(hostile.body.contains("<b>x"))
        for uri in ["/api/files/999999", "/api/orders/NO-SUCH-ORDER", "/api/files/\(f.acceptedID)/report", "/api/nowhere"] {
            let page = try await get(f.console(), uri)
            XCTAssertEqual(page.status, 404, uri)
            XCTAssertEqual(page.contentType, "application/json; charset=utf-8", uri)
            XCTAssertTrue(page.body.contains("\"error\""), uri)
            assertSecurityHeaders(page)
        }
    }

    // MARK: JSON

    func testAPIReturnsTheCommandLinesJSON() async throws {
        let f = try WebFixture()
        let console = f.console()
        func expect(_ uri: String, _ value: JSONValue, file: StaticString = #filePath, line: UInt = #line) async throws {
            let page = try await get(console, uri)
            XCTAssertEqual(page.status, 200, uri, file: file, line: line)
            XCTAssertEqual(page.contentType, "application/json; charset=utf-8", uri, file: file, line: line)
            XCTAssertEqual(page.body, value.render(pretty: true) + "\n", uri, file: file, line: line)
            assertSecurityHeaders(page, file: file, line: line)
        }
        try await expect("/api/files", .array(try f.ledger.files().map { $0.json() }))
        try await expect("/api/files?state=rejected", .array(try f.ledger.files(state: .rejected).map { $0.json() }))
        try await expect("/api/files/\(f.acceptedID)", try XCTUnwrap(try f.ledger.detail(fileID: f.acceptedID)).json())
        try await expect("/api/rejected", .array(try f.ledger.files(state: .rejected).map { $0.json() }))
        try await expect("/api/orders", .array(try f.ledger.orders().map { $0.json() }))
        try await expect("/api/orders?status=shipped", .array(try f.ledger.orders(status: .shipped).map { $0.json() }))
        try await expect("/api/orders/S-1", try XCTUnwrap(try f.ledger.journey(orderID: "S-1")).json())
        try await expect("/api/orders/\(WebPath.segment(Hostile.script))", try XCTUnwrap(try f.ledger.journey(orderID: Hostile.script)).json())
        try await expect("/api/stock", .array(try f.ledger.stock().map { $0.json() }))

        let status = try await get(console, "/api/status")
        XCTAssertEqual(status.status, 200)
        let s = try JSONSerialization.jsonObject(with: Data(status.body.utf8)) as? [String: Any]
        XCTAssertEqual((s?["files"] as? [String: Int])?["accepted"], 3)
        XCTAssertEqual((s?["files"] as? [String: Int])?["rejected"], 1)
        XCTAssertEqual(s?["needsAttention"] as? Bool, false)

        let report = try await get(console, "/api/files/\(f.rejectedID)/report")
        XCTAssertEqual(report.status, 200)
        let r = try JSONSerialization.jsonObject(with: Data(report.body.utf8)) as? [String: Any]
        XCTAssertEqual((r?["errors"] as? [[String: Any]])?.first?["code"] as? String, "INVALID_EAN")
        XCTAssertEqual(r?["file"] as? String, WebFixture.rejectedName)

        let bad = try await get(console, "/api/orders?status=lost")
        XCTAssertEqual(bad.status, 400)
        XCTAssertEqual(bad.contentType, "application/json; charset=utf-8")
    }

    // MARK: Escaping

    /// Every page that shows a hostile value shows it escaped, and no page carries either
    /// payload raw, in text, attributes or links.
    func testEveryValueIsEscapedOnEveryPage() async throws {
        let f = try WebFixture()
        let console = f.console()
        // page -> the escaped forms it must show
        let pages: [(String, [String])] = [
            ("/", [Hostile.scriptFileNameEscaped, Hostile.imgEscaped]),
            ("/files", [Hostile.scriptFileNameEscaped, Hostile.imgEscaped]),
            ("/files?state=accepted", [Hostile.scriptFileNameEscaped]),
            ("/files?state=rejected", [Hostile.imgEscaped]),
            ("/files/\(f.acceptedID)", [Hostile.scriptFileNameEscaped, Hostile.scriptEscaped]),
            ("/files/\(f.rejectedID)", [Hostile.scriptEscaped, Hostile.imgEscaped]),
            ("/rejected", [Hostile.imgEscaped]),
            ("/orders", [Hostile.scriptEscaped]),
            ("/orders?status=sent", [Hostile.scriptEscaped]),
            (Self.encodedScriptOrder, [Hostile.scriptEscaped, Hostile.imgEscaped]),
            ("/stock", [Hostile.scriptEscaped]),
            ("/files/\(f.stockID)", []),
            ("/orders/\(WebPath.segment(Hostile.img))", [Hostile.imgEscaped]),  // no such order: the 404 names it
        ]
        for (uri, escaped) in pages {
            let page = try await get(console, uri)
            XCTAssertTrue([200, 404].contains(page.status), uri)
            for raw in Hostile.all {
                XCTAssertFalse(page.body.contains(raw), "\(uri) carries \(raw) raw")
            }
            XCTAssertFalse(page.body.lowercased().contains("<script"), uri)
            XCTAssertFalse(page.body.lowercased().contains("<img"), uri)
            // Markup of our own must not be escaped as if it were text either.
            for doubled in ["&lt;code", "&lt;span", "&lt;a ", "&lt;b&gt;", "&lt;mark", "&amp;lt;"] {
                XCTAssertFalse(page.body.contains(doubled), "\(uri) escapes its own markup: \(doubled)")
            }
            for e in escaped {
                XCTAssertTrue(page.body.contains(e), "\(uri) should show \(e)")
            }
        }
    }

    func testEscapeFunction() {
        XCTAssertEqual(HTML.escape(#"<a href="x" title='y'>&amp;</a>"#),
                       "&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;amp;&lt;/a&gt;")
        let value = Hostile.img
        let html: Markup = "<p title=\"\(value)\">\(value)</p>"
        XCTAssertEqual(html.raw, "<p title=\"\(Hostile.imgEscaped)\">\(Hostile.imgEscaped)</p>")
        XCTAssertEqual(WebPath.segment("a/b?c#d %é"), "a%2Fb%3Fc%23d%20%25%C3%A9")
        XCTAssertEqual(WebPath.decode("a%2Fb%3Fc%23d%20%25%C3%A9"), "a/b?c#d %é")
        XCTAssertEqual(WebPath.order(".."), "/order?id=..")
        XCTAssertEqual(WebPath.parseForm("csrf=ab+c%2B&x").map { "\($0.0)|\($0.1)" }, ["csrf|ab c+", "x|"])
    }

    // MARK: Retry and CSRF

    func testRetryNeedsTheRightCSRFTokenAndGETChangesNothing() async throws {
        let f = try WebFixture()
        let console = f.console()
        let id = f.rejectedID
        let inbox = f.spool.inbox
        let form: HTTPFields = [.contentType: "application/x-www-form-urlencoded"]
        func stillRejected(_ why: String, file: StaticString = #filePath, line: UInt = #line) throws {
            XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: inbox), [], why, file: file, line: line)
            XCTAssertEqual(try f.ledger.fileRecord(id: id)?.superseded, false, why, file: file, line: line)
            XCTAssertTrue(FileManager.default.fileExists(atPath: FileSystem.join(f.spool.rejected, WebFixture.rejectedName)), why, file: file, line: line)
        }

        let missing = try await request(console, "/files/\(id)/retry", method: .post, headers: form, body: "")
        assertHTML(missing, status: 403)
        try stillRejected("no token")

        let wrong = try await request(console, "/files/\(id)/retry", method: .post, headers: form, body: "csrf=" + String(repeating: "0", count: 64))
        assertHTML(wrong, status: 403)
        try stillRejected("wrong token")

        let otherFile = try await request(console, "/files/\(id)/retry", method: .post, headers: form,
                                          body: "csrf=" + console.retryToken(for: f.acceptedID))
        assertHTML(otherFile, status: 403)
        try stillRejected("another file's token")

        let otherProcess = try await request(console, "/files/\(id)/retry", method: .post, headers: form,
                                             body: "csrf=" + CSRFTokens().token(retry: id))
        assertHTML(otherProcess, status: 403)
        try stillRejected("a token under another secret")

        let viaGet = try await get(console, "/files/\(id)/retry?csrf=" + console.retryToken(for: id))
        assertHTML(viaGet, status: 405)
        XCTAssertEqual(viaGet.header("Allow"), "POST")
        try stillRejected("GET")

        let ok = try await request(console, "/files/\(id)/retry", method: .post, headers: form, body: "csrf=" + console.retryToken(for: id))
        XCTAssertEqual(ok.status, 303, ok.body)
        XCTAssertEqual(ok.header("Location"), "/files/\(id)?flash=retried")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: inbox), [WebFixture.rejectedName], "back in the inbox")
        XCTAssertEqual(try f.ledger.fileRecord(id: id)?.superseded, true)

        let after = try await get(console, "/files/\(id)?flash=retried")
        assertHTML(after)
        XCTAssertTrue(after.body.contains("handed back to its input folder"))
        XCTAssertTrue(after.body.contains("<b>retried</b>"), "the history shows the retry")
        XCTAssertFalse(after.body.contains("Retry this file"), "no second retry button")

        let again = try await request(console, "/files/\(id)/retry", method: .post, headers: form, body: "csrf=" + console.retryToken(for: id))
        assertHTML(again, status: 409)
        XCTAssertTrue(again.body.contains("Retry failed"), again.body)

        let accepted = try await request(console, "/files/\(f.acceptedID)/retry", method: .post, headers: form,
                                         body: "csrf=" + console.retryToken(for: f.acceptedID))
        assertHTML(accepted, status: 409)
        XCTAssertTrue(accepted.body.contains("only rejected files can be retried"))

        let unknown = try await request(console, "/files/999999/retry", method: .post, headers: form, body: "csrf=" + console.retryToken(for: 999999))
        assertHTML(unknown, status: 404)
    }

    // MARK: Token

    func testTokenIsRequiredOffLoopback() throws {
        for host in ["127.0.0.1", "127.8.9.10", "localhost", "::1", "[::1]"] {
            XCTAssertEqual(try WebAccess.check(host: host, token: nil), WebAccess(token: nil), host)
        }
        for host in ["0.0.0.0", "192.168.1.20", "::", "example.com", "127.0.0.1.example.com", "1270.0.0.1"] {
            XCTAssertThrowsError(try WebAccess.check(host: host, token: nil), host) { error in
                XCTAssertTrue("\(error)".contains("only 127.0.0.1"), "\(error)")
            }
            XCTAssertThrowsError(try WebAccess.check(host: host, token: ""), host)
            XCTAssertEqual(try WebAccess.check(host: host, token: "0123456789abcdef0123").token, "0123456789abcdef0123")
        }
        XCTAssertThrowsError(try WebAccess.check(host: "0.0.0.0", token: "short")) { error in
            XCTAssertTrue("\(error)".contains("at least 16"))
        }
        XCTAssertThrowsError(try WebAccess.check(host: "0.0.0.0", token: "has spaces in the token"))
        let access = WebAccess(token: "0123456789abcdef")
        XCTAssertTrue(access.accepts("0123456789abcdef"))
        XCTAssertFalse(access.accepts("0123456789abcdeF"))
        XCTAssertFalse(access.accepts("0123456789abcdef0"))
        XCTAssertFalse(access.accepts(nil))
    }

    func testEveryRequestCarriesTheTokenWhenOneIsSet() async throws {
        let f = try WebFixture()
        let token = "s3cret-token-0123456789"
        let console = f.console(token: token)

        let bare = try await get(console, "/")
        assertHTML(bare, status: 401)
        XCTAssertEqual(bare.header("WWW-Authenticate"), "Bearer realm=\"edidrop\"")
        for uri in ["/files/\(f.rejectedID)", "/orders", "/stock", "/nowhere"] {
            let page = try await get(console, uri)
            XCTAssertEqual(page.status, 401, uri)
        }
        let api = try await get(console, "/api/status")
        XCTAssertEqual(api.status, 401)
        XCTAssertEqual(api.contentType, "application/json; charset=utf-8")
        let metrics = try await get(console, "/metrics")
        XCTAssertEqual(metrics.status, 401)

        let wrongBearer = try await get(console, "/", headers: [.authorization: "Bearer nope-nope-nope-nope"])
        XCTAssertEqual(wrongBearer.status, 401)
        let bearer = try await get(console, "/", headers: [.authorization: "Bearer \(token)"])
        assertHTML(bearer)
        let bearerMetrics = try await get(console, "/metrics", headers: [.authorization: "Bearer \(token)"])
        XCTAssertEqual(bearerMetrics.status, 200)

        let visit = try await get(console, "/files?state=rejected&token=\(token)")
        XCTAssertEqual(visit.status, 303)
        XCTAssertEqual(visit.header("Location"), "/files?state=rejected", "the token leaves the address bar")
        let cookie = try XCTUnwrap(visit.header("Set-Cookie"))
        XCTAssertTrue(cookie.hasPrefix("token=\(token);"), cookie)
        XCTAssertTrue(cookie.contains("HttpOnly"))
        XCTAssertTrue(cookie.contains("SameSite=Strict"))
        let badVisit = try await get(console, "/?token=wrong-wrong-wrong-wrong")
        XCTAssertEqual(badVisit.status, 401)

        let withCookie = try await get(console, "/files?state=rejected", headers: [.cookie: "other=1; token=\(token)"])
        assertHTML(withCookie)
        XCTAssertTrue(withCookie.body.contains(Hostile.imgEscaped))
        let wrongCookie = try await get(console, "/", headers: [.cookie: "token=nope-nope-nope-nope"])
        XCTAssertEqual(wrongCookie.status, 401)

        // A retry with a valid CSRF token but without the console token is refused too.
        let retry = try await request(console, "/files/\(f.rejectedID)/retry", method: .post,
                                      headers: [.contentType: "application/x-www-form-urlencoded"],
                                      body: "csrf=" + console.retryToken(for: f.rejectedID))
        XCTAssertEqual(retry.status, 401)
        XCTAssertEqual(try f.ledger.fileRecord(id: f.rejectedID)?.superseded, false)
    }

    // MARK: Metrics

    func testMetricsParseAsPrometheusText() async throws {
        let f = try WebFixture()
        let page = try await get(f.console(), "/metrics")
        XCTAssertEqual(page.status, 200)
        XCTAssertEqual(page.contentType, "text/plain; version=0.0.4; charset=utf-8")
        assertSecurityHeaders(page)
        let lines = page.body.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        XCTAssertEqual(lines.last, "", "ends with a newline")
        let name = #"[a-zA-Z_:][a-zA-Z0-9_:]*"#
        let label = #"[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*""#
        let value = #"(?:[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|[+-]Inf|NaN)"#
        let sample = try NSRegularExpression(pattern: "^\(name)(?:\\{\(label)(?:,\(label))*\\})? \(value)(?: -?[0-9]+)?$")
        let help = try NSRegularExpression(pattern: "^# HELP \(name) .*$")
        let type = try NSRegularExpression(pattern: "^# TYPE \(name) (?:counter|gauge|histogram|summary|untyped)$")
        var samples: [String: Double] = [:]
        var typed: Set<String> = []
        for line in lines.dropLast() {
            let range = NSRange(line.startIndex..., in: line)
            if line.hasPrefix("#") {
                XCTAssertTrue(help.firstMatch(in: line, range: range) != nil || type.firstMatch(in: line, range: range) != nil, "comment: \(line)")
                if line.hasPrefix("# TYPE ") { typed.insert(String(line.split(separator: " ")[2])) }
                continue
            }
            XCTAssertNotNil(sample.firstMatch(in: line, range: range), "not a Prometheus sample line: \(line)")
            XCTAssertTrue(line.hasPrefix("edidrop_"), line)
            let parts = line.split(separator: " ")
            samples[String(parts[0])] = Double(parts[1].replacingOccurrences(of: "+Inf", with: "inf"))
            let family = String(parts[0].prefix { $0 != "{" })
            let base = ["_bucket", "_sum", "_count"].reduce(family) { $0.hasSuffix($1) && typed.contains(String($0.dropLast($1.count))) ? String($0.dropLast($1.count)) : $0 }
            XCTAssertTrue(typed.contains(base), "\(family) has a # TYPE line before it")
        }
        XCTAssertEqual(samples["edidrop_files{state=\"accepted\"}"], 3)
        XCTAssertEqual(samples["edidrop_files{state=\"rejected\"}"], 1)
        XCTAssertEqual(samples["edidrop_orders{status=\"shipped\"}"], 1)
        XCTAssertEqual(samples["edidrop_orders{status=\"sent\"}"], 1)
        XCTAssertEqual(samples["edidrop_deliveries{state=\"pending\"}"], 0)
        XCTAssertEqual(samples["edidrop_deliveries{state=\"held\"}"], 0)
        XCTAssertEqual(samples["edidrop_overdue_total"], 0)
        let stockAt = try XCTUnwrap(samples["edidrop_last_stock_report_timestamp_seconds"])
        XCTAssertEqual(stockAt, Date().timeIntervalSince1970, accuracy: 600)
        // Histogram: cumulative buckets ending in +Inf == _count.
        for channel in ["orders", "warehouse"] {
            var previous = -1.0
            for bound in MetricsExposition.buckets.map({ MetricsExposition.Writer.number($0) }) + ["+Inf"] {
                let n = try XCTUnwrap(samples["edidrop_file_processing_seconds_bucket{channel=\"\(channel)\",le=\"\(bound)\"}"], bound)
                XCTAssertGreaterThanOrEqual(n, previous)
                previous = n
            }
            XCTAssertEqual(samples["edidrop_file_processing_seconds_count{channel=\"\(channel)\"}"], previous)
        }
        XCTAssertEqual(samples["edidrop_file_processing_seconds_count{channel=\"orders\"}"], 2)
        XCTAssertEqual(samples["edidrop_file_processing_seconds_count{channel=\"warehouse\"}"], 2)
    }
}

/// A clock that stands still.
struct FixedClock: Clock {
    let date: Date
    init(_ date: Date) { self.date = date }
    func now() -> Date { date }
}

final class WebConfigurationTests: XCTestCase {
    func testWebTokenFromTheConfiguration() throws {
        XCTAssertNil(try SpoolConfiguration.parse("").web.token)
        XCTAssertEqual(try SpoolConfiguration.parse("[web]\ntoken = \"0123456789abcdef\"\n").web.token, "0123456789abcdef")
        XCTAssertThrowsError(try SpoolConfiguration.parse("[web]\ntoken = 12\n")) { error in
            XCTAssertTrue("\(error)".contains("[web] token must be a string"), "\(error)")
        }
        XCTAssertThrowsError(try SpoolConfiguration.parse("[web]\nport = 80\n")) { error in
            XCTAssertTrue("\(error)".contains("[web] has no key \"port\""), "\(error)")
        }
    }
}
