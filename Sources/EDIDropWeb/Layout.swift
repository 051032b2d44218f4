import EDIDrop
import Foundation

/// The page frame (head, stylesheet, navigation) and the small pieces every page uses.
/// Everything here builds `Markup` by interpolation, so every value is escaped.
enum Layout {
    enum Section: String, CaseIterable {
        case dashboard, files, rejected, orders, stock, metrics

        var title: String {
            switch self {
            case .dashboard: return "Dashboard"
            case .files: return "Files"
            case .rejected: return "Rejected"
            case .orders: return "Orders"
            case .stock: return "Stock"
            case .metrics: return "Metrics"
            }
        }

        var path: String {
            switch self {
            case .dashboard: return "/"
            case .metrics: return "/metrics"
            default: return "/" + rawValue
            }
        }
    }

    /// Seconds between automatic reloads of the pages that show live state.
    static let refreshSeconds = 10

    static func page(title: String, section: Section?, spool: String, refresh: Bool = false, _ body: Markup) -> Markup {
        let nav = Markup.join(Section.allCases.map { s in
            s == section ? "<a class=\"on\" href=\"\(s.path)\" aria-current=\"page\">\(s.title)</a>"
                         : "<a href=\"\(s.path)\">\(s.title)</a>"
        })
        let meta: Markup = refresh ? "<meta http-equiv=\"refresh\" content=\"\(refreshSeconds)\">\n" : ""
        return """
        <!DOCTYPE html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        \(meta)<title>\(title) · edidrop</title>
        <style>\(stylesheet)</style>
        </head>
        <body>
        <header><nav><a class="brand" href="/">edidrop</a>\(nav)<span class="spool" title="spool">\(spool)</span></nav></header>
        <main>
        \(body)
        </main>
        <footer>edidrop web console · read-only but for retry\(refresh ? " · this page refreshes every \(refreshSeconds) s" : "")</footer>
        </body>
        </html>

        """
    }

    /// A coloured label for a state or status word.
    static func badge(_ word: String) -> Markup {
        "<span class=\"badge b-\(word)\">\(word)</span>"
    }

    /// A ledger timestamp (ISO 8601 UTC) shown as `2026-11-27 10:30:00 UTC`.
    static func time(_ iso: String?, now: Date? = nil) -> Markup {
        guard let iso, !iso.isEmpty else { return "<span class=\"muted\">–</span>" }
        var shown = iso
        if iso.count >= 19, iso.dropFirst(10).first == "T" {
            shown = iso.prefix(10) + " " + iso.dropFirst(11).prefix(8) + (iso.hasSuffix("Z") ? " UTC" : "")
        }
        var out: Markup = "<time datetime=\"\(iso)\">\(shown)</time>"
        if let now, let date = Timestamp.parse(iso) {
            out += " <span class=\"muted\">(\(age(now.timeIntervalSince(date))))</span>"
        }
        return out
    }

    static func age(_ seconds: Double) -> String {
        if seconds < 0 { return "in the future" }
        if seconds < 60 { return "just now" }
        if seconds < 3600 { return "\(Int(seconds / 60)) min ago" }
        if seconds < 172_800 { return "\(Int(seconds / 3600)) h ago" }
        return "\(Int(seconds / 86_400)) days ago"
    }

    static func fileLink(_ id: Int64, _ name: String) -> Markup {
        "<a href=\"\(WebPath.file(id))\">\(name)</a>"
    }

    static func orderLink(_ id: String) -> Markup {
        "<a href=\"\(WebPath.order(id))\">\(id)</a>"
    }

    struct Column {
        var title: String
        var numeric = false
        init(_ title: String, numeric: Bool = false) { self.title = title; self.numeric = numeric }
    }

    static func table(_ columns: [Column], _ rows: [[Markup]], empty: String) -> Markup {
        if rows.isEmpty { return "<p class=\"empty\">\(empty)</p>" }
        let head = Markup.join(columns.map { c in c.numeric ? "<th class=\"num\">\(c.title)</th>" : "<th>\(c.title)</th>" })
        let body = Markup.join(rows.map { row in
            let cells = Markup.join(row.enumerated().map { i, cell in
                i < columns.count && columns[i].numeric ? "<td class=\"num\">\(cell)</td>" : "<td>\(cell)</td>"
            })
            return "<tr>\(cells)</tr>\n"
        })
        return "<div class=\"scroll\"><table>\n<thead><tr>\(head)</tr></thead>\n<tbody>\n\(body)</tbody>\n</table></div>"
    }

    /// Links that filter a list by one query parameter; the current choice is marked.
    static func filters(path: String, parameter: String, choices: [String], current: String?) -> Markup {
        let all: Markup = current == nil ? "<a class=\"on\" href=\"\(path)\">all</a>" : "<a href=\"\(path)\">all</a>"
        let rest = Markup.join(choices.map { c in
            let href = path + "?" + parameter + "=" + WebPath.query(c)
            return c == current ? "<a class=\"on\" href=\"\(href)\">\(c)</a>" : "<a href=\"\(href)\">\(c)</a>"
        })
        return "<p class=\"filters\">Show: \(all)\(rest)</p>"
    }

    /// Label/value pairs, in one or two columns.
    static func facts(_ pairs: [(String, Markup)], columns: Int = 1) -> Markup {
        let items = Markup.join(pairs.map { (label, value) -> Markup in "<dt>\(label)</dt><dd>\(value)</dd>" })
        return columns == 2 ? "<dl class=\"facts two\">\(items)</dl>" : "<dl class=\"facts\">\(items)</dl>"
    }

    static func card(_ number: Int, _ label: String, tone: String = "", href: String? = nil) -> Markup {
        let inner: Markup = "<div class=\"n\">\(number)</div><div class=\"l\">\(label)</div>"
        if let href { return "<a class=\"card \(tone)\" href=\"\(href)\">\(inner)</a>" }
        return "<div class=\"card \(tone)\">\(inner)</div>"
    }

    static let stylesheet: Markup = """
    :root{--fg:#1c2333;--muted:#5d6678;--bg:#f4f5f8;--card:#fff;--line:#dfe3ea;--accent:#2455a4;\
    --ok:#1d7238;--okbg:#e3f3e8;--bad:#b42318;--badbg:#fdecea;--warn:#8a5300;--warnbg:#fff4d9;--info:#e6eefc}
    *{box-sizing:border-box}
    body{margin:0;font:15px/1.5 "DejaVu Sans",system-ui,-apple-system,"Segoe UI",sans-serif;color:var(--fg);background:var(--bg)}
    a{color:var(--accent)}
    header{background:#1b2a44}
    nav{display:flex;flex-wrap:wrap;align-items:center;max-width:1200px;margin:0 auto;padding:0 20px}
    nav a{color:#cfd9ec;text-decoration:none;padding:13px 12px 10px;border-bottom:3px solid transparent}
    nav a:hover{color:#fff}
    nav a.on{color:#fff;border-bottom-color:#79a6ff}
    nav a.brand{font-weight:700;color:#fff;font-size:17px;margin-right:14px;padding-left:0}
    nav .spool{margin-left:auto;color:#8fa0bf;font:12px "DejaVu Sans Mono",monospace}
    main{max-width:1200px;margin:0 auto;padding:18px 20px 30px}
    footer{max-width:1200px;margin:0 auto;padding:0 20px 24px;color:var(--muted);font-size:12px}
    h1{font-size:22px;margin:6px 0 14px;font-weight:700}
    h1 .badge{vertical-align:middle;margin-left:6px}
    h2{font-size:16px;margin:26px 0 10px;color:#33405a}
    p{margin:8px 0}
    .muted{color:var(--muted)}
    .empty{color:var(--muted);font-style:italic;background:var(--card);border:1px dashed var(--line);border-radius:8px;padding:10px 14px}
    code,.mono{font-family:"DejaVu Sans Mono",monospace;font-size:13px}
    .cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(150px,1fr));gap:12px;margin:6px 0}
    .card{display:block;background:var(--card);border:1px solid var(--line);border-radius:10px;padding:10px 14px;text-decoration:none;color:inherit}
    a.card:hover{border-color:#9db7e6}
    .card .n{font-size:28px;font-weight:700;line-height:1.2}
    .card .l{color:var(--muted);font-size:13px}
    .card.ok .n{color:var(--ok)} .card.bad .n{color:var(--bad)} .card.warn .n{color:var(--warn)}
    .group{display:grid;grid-template-columns:repeat(auto-fit,minmax(330px,1fr));gap:8px 24px}
    .scroll{overflow-x:auto}
    table{width:100%;border-collapse:separate;border-spacing:0;background:var(--card);border:1px solid var(--line);border-radius:10px;overflow:hidden}
    th,td{text-align:left;padding:7px 12px;border-bottom:1px solid var(--line);vertical-align:top}
    th{background:#eef1f6;font-size:12px;letter-spacing:.03em;text-transform:uppercase;color:var(--muted);font-weight:600}
    tbody tr:last-child td{border-bottom:none}
    tbody tr:hover td{background:#f8faff}
    .num{text-align:right;font-variant-numeric:tabular-nums}
    td{overflow-wrap:anywhere}
    .badge{display:inline-block;padding:1px 9px;border-radius:999px;font-size:12px;font-weight:600;background:#eceff4;color:#3c4658;white-space:nowrap}
    .b-accepted,.b-shipped,.b-delivered{background:var(--okbg);color:var(--ok)}
    .b-rejected{background:var(--badbg);color:var(--bad)}
    .b-sent,.b-pending,.b-delivering,.b-orders{background:var(--info);color:var(--accent)}
    .b-received,.b-held,.b-retried,.b-warehouse{background:var(--warnbg);color:var(--warn)}
    .banner{padding:10px 14px;border-radius:10px;margin:0 0 16px;border:1px solid}
    .banner ul{margin:4px 0 0;padding-left:20px}
    .banner.ok{background:var(--okbg);border-color:#b6dec3;color:var(--ok)}
    .banner.bad{background:var(--badbg);border-color:#f2c0ba;color:var(--bad)}
    .banner.warn{background:var(--warnbg);border-color:#f0d79a;color:var(--warn)}
    .banner.info{background:var(--info);border-color:#bfd0f2;color:var(--accent)}
    .filters a{display:inline-block;margin-left:6px;padding:2px 12px;border-radius:999px;background:var(--card);border:1px solid var(--line);text-decoration:none}
    .filters a.on{background:var(--accent);border-color:var(--accent);color:#fff}
    dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:5px 18px;background:var(--card);border:1px solid var(--line);border-radius:10px;padding:12px 16px;margin:0}
    dl.facts.two{grid-template-columns:max-content 1fr max-content 1fr}
    dl.facts dt{color:var(--muted)}
    dl.facts dd{margin:0;overflow-wrap:anywhere}
    .report .summary{font-size:15px;background:var(--badbg);border:1px solid #f2c0ba;border-left:5px solid var(--bad);color:var(--bad);border-radius:8px;padding:10px 14px;margin:0 0 12px}
    .report dl.facts{display:none}
    .report h3{font-size:15px;margin:20px 0 6px;color:#33405a}
    .report ol.errors{list-style:none;padding:0;margin:0;counter-reset:none}
    .report ol.errors li{background:var(--card);border:1px solid var(--line);border-left:5px solid var(--bad);border-radius:8px;padding:10px 14px;margin:10px 0}
    .report ol.errors li::before{content:"#" attr(value);float:right;color:var(--muted);font-size:12px}
    .report ol.errors p{margin:3px 0}
    .report code{font-family:"DejaVu Sans Mono",monospace;font-size:13px;background:#f0f2f6;border-radius:4px;padding:0 4px}
    .report code.code{color:#fff;background:var(--bad);font-weight:700;padding:1px 7px}
    .report .fix{color:var(--ok);font-weight:600}
    .report pre.quote{background:#1f2533;color:#e9edf5;padding:9px 12px;border-radius:6px;overflow-x:auto;font:13px/1.6 "DejaVu Sans Mono",monospace;margin:8px 0 2px;white-space:pre}
    .report pre.quote .ln{color:#8b95a9;border-right:1px solid #4a5367;padding-right:8px;margin-right:2px}
    .report pre.quote mark{background:#ffd54a;color:#1b1b1b;border-radius:2px;padding:1px 0;box-shadow:0 0 0 2px #ff9d00;outline:none}
    .actions{display:flex;gap:14px;align-items:center;margin:0 0 8px;background:var(--card);border:1px solid var(--line);border-radius:10px;padding:10px 14px}
    .actions .muted{font-size:14px}
    button{white-space:nowrap;flex-shrink:0;background:var(--accent);color:#fff;border:0;padding:8px 16px;border-radius:8px;font:600 14px "DejaVu Sans",sans-serif;cursor:pointer}
    button:hover{background:#1b4588}
    .how{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:10px 16px}
    """
}
