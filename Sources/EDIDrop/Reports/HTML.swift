/// HTML escaping and the report's stylesheet. One escaping function, used for every
/// value that comes from a file or the ledger.
public enum HTML {
    public static func escape(_ s: String) -> String {
        var out = ""
        out.reserveCapacity(s.utf8.count)
        for scalar in s.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    static let reportStyle = """
    body{font:15px/1.5 system-ui,sans-serif;margin:2rem auto;max-width:60rem;padding:0 1rem;color:#1d2330}
    h1{font-size:1.4rem}h3{margin:1.5rem 0 .3rem;font-size:1.05rem}
    .summary{background:#fdecea;border-left:4px solid #c62828;padding:.6rem .9rem}
    dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:.1rem 1rem;font-size:.9rem;color:#444}
    dl.facts dt{font-weight:600}dl.facts dd{margin:0}
    ol.errors li{margin:.4rem 0 1rem}ol.errors p{margin:.1rem 0}
    code.code{background:#eef;border-radius:3px;padding:0 .3rem;font-weight:600}
    .fix{color:#1b5e20}
    pre.quote{background:#f6f8fa;padding:.5rem;overflow-x:auto;border-radius:4px}
    pre.quote .ln{color:#888;user-select:none}
    mark{background:#ffd54f;outline:1px solid #c62828;border-radius:2px}
    """
}
