import EDIDrop
import Foundation

/// What a page or API call produces, before it becomes an HTTP response.
public struct Rendered: Sendable {
    public var status: Int
    public var contentType: String
    public var body: String
    public var headers: [(String, String)] = []

    static let htmlType = "text/html; charset=utf-8"
    static let jsonType = "application/json; charset=utf-8"

    static func html(_ html: Markup, status: Int = 200) -> Rendered {
        Rendered(status: status, contentType: htmlType, body: html.raw)
    }

    static func json(_ value: JSONValue, status: Int = 200) -> Rendered {
        Rendered(status: status, contentType: jsonType, body: value.render(pretty: true) + "\n")
    }

    static func jsonError(_ status: Int, _ message: String) -> Rendered {
        var o = JSONObject()
        o.add("error", .string(message))
        return json(.object(o), status: status)
    }

    static func redirect(_ location: String) -> Rendered {
        Rendered(status: 303, contentType: "text/plain; charset=utf-8", body: "See \(location)\n", headers: [("Location", location)])
    }
}

/// The Markup pages. Each reads what it shows through the core's read models
/// (`Ledger.status`, `files`, `detail`, `orders`, `journey`, `stock`, `RejectionReport`)
/// and lays it out; no rule of the pipeline lives here.
extension WebConsole {
    func page(_ title: String, _ section: Layout.Section?, refresh: Bool = false, status: Int = 200, _ body: Markup) -> Rendered {
        .html(Layout.page(title: title, section: section, spool: spool.root, refresh: refresh, body), status: status)
    }

    // MARK: Dashboard

    func dashboardPage() throws -> Rendered {
        let now = clock.now()
        let s = try ledger.status(spool: spool, now: now)
        let recent = try ledger.files(limit: 10)
        let lastStock = try ledger.lastStockReport()
        var body: Markup = "<h1>Dashboard</h1>\n"
        if s.needsAttention {
            var items: [Markup] = s.overdue.map { o in
                let ids = Markup.join(o.orders.prefix(10).map { Layout.orderLink($0) }, separator: ", ")
                return "<li><b>Overdue:</b> \(o.message)\(o.orders.isEmpty ? "" : ": ")\(ids)\(o.orders.count > 10 ? ", …" : "")</li>"
            }
            items += s.stuck.map { (x: String) -> Markup in "<li><b>Stuck:</b> \(x)</li>" }
            items += s.problems.map { (x: String) -> Markup in "<li><b>Problem:</b> \(x)</li>" }
            body += "<div class=\"banner bad\"><b>Needs attention</b><ul>\(items)</ul></div>\n"
        } else {
            body += "<div class=\"banner ok\">Nothing needs attention: nothing overdue, stuck or broken.</div>\n"
        }
        for n in s.notes { body += "<div class=\"banner info\">\(n)</div>\n" }
        let accepted = s.filesByState[FileState.accepted.rawValue] ?? 0
        let rejected = s.filesByState[FileState.rejected.rawValue] ?? 0
        body += "<div class=\"group\"><section><h2>Files</h2><div class=\"cards\">"
        body += Layout.card(accepted, "accepted", tone: "ok", href: "/files?state=accepted")
        body += Layout.card(rejected, "rejected", tone: rejected > 0 ? "bad" : "", href: "/rejected")
        body += Layout.card(s.inFlight, "in flight", tone: s.inFlight > 0 ? "warn" : "")
        body += "</div></section><section><h2>Orders</h2><div class=\"cards\">"
        for status in OrderStatus.allCases {
            body += Layout.card(s.ordersByStatus[status.rawValue] ?? 0, status.rawValue, href: "/orders?status=\(status.rawValue)")
        }
        body += "</div></section><section><h2>Deliveries</h2><div class=\"cards\">"
        body += Layout.card(s.pendingDeliveries, "pending", tone: s.pendingDeliveries > 0 ? "warn" : "")
        body += Layout.card(s.heldDeliveries, "held after a restore", tone: s.heldDeliveries > 0 ? "bad" : "")
        body += Layout.card(s.failingDeliveries.count, "failing", tone: s.failingDeliveries.isEmpty ? "" : "bad")
        body += "</div></section></div>\n"
        body += "<h2>Activity</h2>"
        body += Layout.facts([
            ("last activity", Layout.time(s.lastActivity, now: now)),
            ("last stock report", lastStock.map { "\(Layout.time($0.record.processedAt, now: now)) · \(Layout.fileLink($0.record.id ?? 0, $0.record.name))" } ?? "<span class=\"muted\">none yet</span>"),
            ("edidrop run", s.runActive ? "<span class=\"badge b-accepted\">working</span>" : "<span class=\"badge b-held\">not running</span>"),
            ("files in work/", "\(s.workLeftovers)"),
        ])
        if !s.failingDeliveries.isEmpty {
            body += "<h2>Failing deliveries</h2>"
            body += Layout.table([.init("Message"), .init("Attempts", numeric: true), .init("Last error"), .init("Next attempt")],
                                 s.failingDeliveries.map { ["<code>\($0.name)</code>", "\($0.attempts)", "\($0.error)", Layout.time($0.nextAttempt)] },
                                 empty: "")
        }
        body += "<h2>Latest files</h2>" + filesTable(recent, empty: "No files yet: drop order files into the inbox.")
        return page("Dashboard", .dashboard, refresh: true, body)
    }

    // MARK: Files

    func filesTable(_ files: [FileSummary], empty: String) -> Markup {
        Layout.table([.init("ID", numeric: true), .init("State"), .init("Name"), .init("Channel"), .init("Format"),
                      .init("Docs", numeric: true), .init("Errors", numeric: true), .init("Received")],
                     files.map { s in
            let f = s.record
            let id = f.id ?? 0
            var state = Layout.badge(f.state.rawValue)
            if f.archivedAt == nil { state += " <span class=\"badge b-pending\">in flight</span>" }
            if f.superseded { state += " <span class=\"badge b-retried\">retried</span>" }
            return ["<a href=\"\(WebPath.file(id))\">\(id)</a>", state, Layout.fileLink(id, f.name), "\(f.channel.rawValue)",
                    "\(f.format, or: "–")", "\(f.documents)", f.errorCount > 0 ? "<b>\(f.errorCount)</b>" : "0", Layout.time(f.receivedAt)]
        }, empty: empty)
    }

    func filesPage(state stateText: String?, channel channelText: String?) throws -> Rendered {
        let state = try parseChoice(stateText, FileState.self, name: "state")
        let channel = try parseChoice(channelText, Channel.self, name: "channel")
        let files = try ledger.files(state: state, channel: channel)
        var body: Markup = "<h1>Files</h1>"
        body += Layout.filters(path: "/files", parameter: "state", choices: FileState.allCases.map(\.rawValue), current: state?.rawValue)
        body += filesTable(files, empty: state == nil ? "No files yet." : "No \(state!.rawValue) files.")
        return page("Files", .files, refresh: true, body)
    }

    func rejectedPage() throws -> Rendered {
        let files = try ledger.files(state: .rejected)
        var body: Markup = "<h1>Rejected files</h1>"
        body += "<p class=\"muted\">Each rejected file has a report: open it to see every error with its line quoted. "
            + "Correct the file and drop it into its folder again, or retry it as it is after a configuration change.</p>"
        body += filesTable(files, empty: "No rejected files. Everything was accepted.")
        return page("Rejected", .rejected, refresh: true, body)
    }

    func filePage(id idText: String, flash: String? = nil, failure: String? = nil, status: Int = 200) throws -> Rendered {
        guard let id = Int64(idText), let d = try ledger.detail(fileID: id) else {
            return notFoundPage("There is no file with id \(idText).")
        }
        let f = d.record
        var body: Markup = "<h1>File \(id): \(f.name) \(Layout.badge(f.state.rawValue))</h1>\n"
        if flash == "retried" {
            body += "<div class=\"banner ok\">The file was handed back to its input folder; the next run takes it again (it no longer counts as a duplicate).</div>"
        }
        if let failure { body += "<div class=\"banner bad\">Retry failed: \(failure)</div>" }
        var facts: [(String, Markup)] = [
            ("channel", Layout.badge(f.channel.rawValue)),
            ("stored as", "<code>\(f.destDir)/\(f.storedName)</code>\(f.archivedAt == nil ? " (in flight)" : "")"),
            ("format", f.format.map { "\($0)\(f.encoding.map { ", \($0)" } ?? "")" } ?? "<span class=\"muted\">not recognised</span>"),
            ("size", "\(f.size) bytes"),
            ("documents", "\(f.documents)"),
            ("errors", "\(f.errorCount)"),
            ("received", Layout.time(f.receivedAt)),
            ("processed", Layout.time(f.processedAt)),
            ("archived", Layout.time(f.archivedAt)),
        ]
        if let sha = f.sha256 { facts.append(("sha256", "<code>\(sha)</code>")) }
        if let dup = f.duplicateOf { facts.append(("duplicate of", Layout.fileLink(dup, "file \(dup)"))) }
        var retryForm: Markup = ""
        if f.state == .rejected && f.archivedAt != nil && !f.superseded {
            retryForm = """
            <form class="actions" method="post" action="\(WebPath.file(id))/retry">\
            <input type="hidden" name="csrf" value="\(csrf.token(retry: id))">\
            <button type="submit">Retry this file</button>\
            <span class="muted">Hands the original back to its input folder to be taken again (e.g. after a configuration change). \
            A corrected file is simply dropped into the folder again.</span></form>
            """
        } else if f.superseded {
            retryForm = "<p class=\"muted\">This file was handed back for another attempt; see its history.</p>"
        }
        // A rejected file: what is wrong comes first; the bookkeeping after it.
        if f.state == .rejected {
            body += retryForm
            body += "<h2>Report</h2><div class=\"report\">" + (try reportHTML(f)) + "</div>"
            body += "<h2>File</h2>"
        }
        body += Layout.facts(facts, columns: 2)
        body += "<h2>History</h2>"
        body += Layout.table([.init("When"), .init("Event"), .init("Detail")],
                             d.events.map { [Layout.time($0.at), "<b>\($0.event)</b>", "\($0.detail, or: "")"] }, empty: "No events.")
        if !d.orders.isEmpty {
            body += "<h2>Orders (\(d.orders.count))</h2>"
            body += Layout.table([.init("Order"), .init("Status"), .init("Line", numeric: true)],
                                 d.orders.map { [Layout.orderLink($0.orderID), Layout.badge($0.status), "\($0.line)"] }, empty: "")
        }
        if !d.deliveries.isEmpty {
            body += "<h2>Deliveries (\(d.deliveries.count))</h2>"
            body += Layout.table([.init("ID", numeric: true), .init("Message"), .init("Folder"), .init("State"), .init("Attempts", numeric: true),
                                  .init("Delivered"), .init("Last error")],
                                 d.deliveries.map { ["\($0.id)", "<code>\($0.name)</code>", "\($0.target)", Layout.badge($0.state), "\($0.attempts)",
                                                     Layout.time($0.deliveredAt), "\($0.lastError, or: "")"] }, empty: "")
        }
        let stale = try ledger.staleStockLines(fileID: id)
        if !stale.isEmpty {
            body += "<h2>Stale stock lines</h2><p class=\"muted\">Older than what was already recorded for their SKU: not applied (not an error).</p>"
            body += Layout.table([.init("Line", numeric: true), .init("SKU"), .init("As of"), .init("Recorded as of")],
                                 stale.map { ["\($0.line)", "<code>\($0.sku)</code>", "\($0.asOf)", "\($0.recordedAsOf)"] }, empty: "")
        }
        return page("File \(id)", .files, status: status, body)
    }

    /// The rejected file's report, quoting lines from the original where it now lies: the
    /// core's HTML fragment (every value escaped there, the bad value in <mark>), in the
    /// configured report language.
    func reportHTML(_ f: FileRecord) throws -> Markup {
        let report = try RejectionReport.load(f, ledger: ledger, original: originalPath(f))
        return Markup(unsafeRaw: report.htmlFragment(language: spool.configuration.reportLanguage))
    }

    func originalPath(_ f: FileRecord) -> String {
        f.archivedAt == nil
            ? FileSystem.join(spool.workFolder(for: f.channel), f.workName)
            : FileSystem.join(spool.resolve(relative: f.destDir), f.storedName)
    }

    // MARK: Orders

    func ordersPage(status statusText: String?) throws -> Rendered {
        let status = try parseChoice(statusText, OrderStatus.self, name: "status")
        let orders = try ledger.orders(status: status)
        var body: Markup = "<h1>Orders</h1>"
        body += Layout.filters(path: "/orders", parameter: "status", choices: OrderStatus.allCases.map(\.rawValue), current: status?.rawValue)
        body += Layout.table([.init("Order"), .init("Status"), .init("Received"), .init("Sent"), .init("Shipped"), .init("File")],
                             orders.map { o in
            [Layout.orderLink(o.orderID), Layout.badge(o.status), Layout.time(o.receivedAt), Layout.time(o.sentAt), Layout.time(o.shippedAt),
             Layout.fileLink(o.fileID, o.fileName)]
        }, empty: status == nil ? "No orders yet." : "No \(status!.rawValue) orders.")
        return page("Orders", .orders, refresh: true, body)
    }

    func orderPage(id: String) throws -> Rendered {
        guard let j = try ledger.journey(orderID: id) else {
            return notFoundPage("There is no order with id “\(id)”.")
        }
        var body: Markup = "<h1>Order \(j.orderID) \(Layout.badge(j.status))</h1>\n"
        body += Layout.facts([
            ("received", "\(Layout.time(j.receivedAt)) in \(Layout.fileLink(j.fileID, j.fileName)), line \(j.line)"),
            ("sent to the warehouse", j.sentAt == nil ? "<span class=\"muted\">not yet</span>" : "\(Layout.time(j.sentAt))\(j.warehouseFile.map { (w: String) -> Markup in " as <code>\(w)</code>" } ?? "")"),
            ("shipped", j.shippedAt == nil ? "<span class=\"muted\">not yet</span>" : Layout.time(j.shippedAt)),
        ])
        body += "<h2>Parcels</h2>"
        body += Layout.table([.init("Tracking number"), .init("Carrier"), .init("Shipped"), .init("Confirmation file"), .init("Recorded")],
                             j.parcels.map { ["<code>\($0.tracking)</code>", "\($0.carrier, or: "–")", Layout.time($0.shippedAt),
                                              Layout.fileLink($0.fileID, "file \($0.fileID)"), Layout.time($0.recordedAt)] },
                             empty: "No shipment confirmation yet.")
        if let o = j.order {
            body += "<h2>Ship to</h2>"
            var facts: [(String, Markup)] = [
                ("customer", "\(o.customer.name)"),
                ("address", "\(o.shipTo.street), \(o.shipTo.postcode) \(o.shipTo.city), \(o.shipTo.country)"),
            ]
            if let e = o.customer.email { facts.append(("email", "\(e)")) }
            if let p = o.customer.phone { facts.append(("phone", "\(p)")) }
            if let c = o.carrier { facts.append(("carrier", "\(c)\(o.pickupPoint.map { " · pickup point \($0)" } ?? "")")) }
            if let cod = o.cod { facts.append(("cash on delivery", "\(cod.formatted) \(o.currency)")) }
            if let n = o.notes { facts.append(("notes", "\(n)")) }
            body += Layout.facts(facts)
            body += "<h2>Lines</h2>"
            body += Layout.table([.init("SKU"), .init("EAN"), .init("Product"), .init("Quantity", numeric: true), .init("Unit price", numeric: true)],
                                 o.lines.map { l in
                ["<code>\(l.sku)</code>", "\(l.ean, or: "–")", "\(l.name, or: "–")", "\(l.quantity)",
                 l.unitPrice.map { "\($0.formatted) \(o.currency)" } ?? "–"]
            }, empty: "")
        }
        return page("Order \(j.orderID)", .orders, body)
    }

    // MARK: Stock

    func stockPage() throws -> Rendered {
        let stock = try ledger.stock()
        var body: Markup = "<h1>Stock</h1><p class=\"muted\">As the warehouse last reported it, per SKU.</p>"
        body += Layout.table([.init("SKU"), .init("EAN"), .init("Available", numeric: true), .init("Reserved", numeric: true),
                              .init("As of"), .init("Report")],
                             stock.map { s in
            ["<code>\(s.sku)</code>", "\(s.ean, or: "–")", "\(s.available)", s.reserved.map { "\($0)" } ?? "–", Layout.time(s.asOf),
             Layout.fileLink(s.fileID, s.fileName)]
        }, empty: "No stock reported yet.")
        return page("Stock", .stock, refresh: true, body)
    }

    // MARK: Errors

    func notFoundPage(_ message: String) -> Rendered {
        page("Not found", nil, status: 404, "<h1>Not found</h1><p>\(message)</p><p><a href=\"/\">Back to the dashboard</a></p>")
    }

    func errorPage(_ status: Int, _ title: String, _ message: String) -> Rendered {
        page(title, nil, status: status, "<h1>\(title)</h1><p>\(message)</p><p><a href=\"/\">Back to the dashboard</a></p>")
    }

    /// A query parameter that must be one of an enum's raw values (absent or empty: none).
    func parseChoice<T: RawRepresentable & CaseIterable>(_ text: String?, _ type: T.Type, name: String) throws -> T? where T.RawValue == String {
        guard let text, !text.isEmpty else { return nil }
        guard let value = T(rawValue: text) else {
            throw BadRequest(message: "\(name) must be one of: \(T.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return value
    }
}

/// A request the console cannot answer as asked (400).
struct BadRequest: Error {
    var message: String
}
