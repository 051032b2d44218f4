/// ISO 3166-1 alpha-2 country codes. Only the 249 officially assigned codes count:
/// user-assigned ones (XK for Kosovo) and exceptionally reserved ones (UK, EL, EU) are
/// not countries to a carrier, so they are refused and, where the intent is clear,
/// answered with a suggestion instead.
public enum CountryCode {
    public static func isValid(_ code: String) -> Bool {
        // Strictly uppercase: the value goes to the warehouse exactly as received.
        let scalars = Array(code.unicodeScalars)
        guard scalars.count == 2, scalars.allSatisfy(ValueText.isUpper) else { return false }
        return assigned.contains(code)
    }

    /// What the person most likely meant, for a "did you mean …?" hint; nil when the
    /// code is already valid or nothing sensible comes to mind.
    public static func suggestion(for code: String) -> String? {
        if isValid(code) { return nil }
        let upper = ValueText.asciiUppercased(ValueText.string(ValueText.trimmedScalars(code)))
        if let known = commonMistakes[upper] { return known }
        return isValid(upper) ? upper : nil
    }

    /// Reserved codes people really use: UK for the United Kingdom, EL for Greece (the
    /// EU's own abbreviation, seen on VAT numbers).
    static let commonMistakes: [String: String] = ["UK": "GB", "EL": "GR"]

    static let assigned: Set<String> = [
        "AD", "AE", "AF", "AG", "AI", "AL", "AM", "AO", "AQ", "AR", "AS", "AT", "AU", "AW", "AX", "AZ",
        "BA", "BB", "BD", "BE", "BF", "BG", "BH", "BI", "BJ", "BL", "BM", "BN", "BO", "BQ", "BR", "BS",
        "BT", "BV", "BW", "BY", "BZ",
        "CA", "CC", "CD", "CF", "CG", "CH", "CI", "CK", "CL", "CM", "CN", "CO", "CR", "CU", "CV", "CW",
        "CX", "CY", "CZ",
        "DE", "DJ", "DK", "DM", "DO", "DZ",
        "EC", "EE", "EG", "EH", "ER", "ES", "ET",
        "FI", "FJ", "FK", "FM", "FO", "FR",
        "GA", "GB", "GD", "GE", "GF", "GG", "GH", "GI", "GL", "GM", "GN", "GP", "GQ", "GR", "GS", "GT",
        "GU", "GW", "GY",
        "HK", "HM", "HN", "HR", "HT", "HU",
        "ID", "IE", "IL", "IM", "IN", "IO", "IQ", "IR", "IS", "IT",
        "JE", "JM", "JO", "JP",
        "KE", "KG", "KH", "KI", "KM", "KN", "KP", "KR", "KW", "KY", "KZ",
        "LA", "LB", "LC", "LI", "LK", "LR", "LS", "LT", "LU", "LV", "LY",
        "MA", "MC", "MD", "ME", "MF", "MG", "MH", "MK", "ML", "MM", "MN", "MO", "MP", "MQ", "MR", "MS",
        "MT", "MU", "MV", "MW", "MX", "MY", "MZ",
        "NA", "NC", "NE", "NF", "NG", "NI", "NL", "NO", "NP", "NR", "NU", "NZ",
        "OM",
        "PA", "PE", "PF", "PG", "PH", "PK", "PL", "PM", "PN", "PR", "PS", "PT", "PW", "PY",
        "QA",
        "RE", "RO", "RS", "RU", "RW",
        "SA", "SB", "SC", "SD", "SE", "SG", "SH", "SI", "SJ", "SK", "SL", "SM", "SN", "SO", "SR", "SS",
        "ST", "SV", "SX", "SY", "SZ",
        "TC", "TD", "TF", "TG", "TH", "TJ", "TK", "TL", "TM", "TN", "TO", "TR", "TT", "TV", "TW", "TZ",
        "UA", "UG", "UM", "US", "UY", "UZ",
        "VA", "VC", "VE", "VG", "VI", "VN", "VU",
        "WF", "WS",
        "YE", "YT",
        "ZA", "ZM", "ZW",
    ]
}
