/// ISO 4217 alphabetic currency codes in use in 2024.
///
/// Codes in the middle of a replacement are kept on both sides (ANG and XCG, SLL and
/// SLE, ZWL and ZWG, CUC): a file written by a shop a few weeks behind the standard
/// should not be refused for it. Codes long withdrawn (HRK, BYR, VEF, MRO, STD, LTL)
/// are refused, because a warehouse or courier would no longer accept them.
public enum CurrencyCode {
    /// Membership in the ISO 4217 list, which includes codes that are not money (see
    /// `isUsableForOrders`).
    public static func isValid(_ code: String) -> Bool {
        let scalars = Array(code.unicodeScalars)
        guard scalars.count == 3, scalars.allSatisfy(ValueText.isUpper) else { return false }
        return active.contains(code)
    }

    /// ISO 4217 also lists precious metals (XAU), bond-market units (XBA…XBD), special
    /// drawing rights (XDR, XSU, XUA), a testing code (XTS) and "no currency" (XXX).
    /// They are valid codes, but nobody pays for a parcel in them.
    public static func isUsableForOrders(_ code: String) -> Bool {
        isValid(code) && !nonMonetary.contains(code)
    }

    /// The uppercased code when that is valid ("pln" → "PLN"), the code behind a
    /// symbol ("zł" → "PLN"), or nil. Withdrawn codes get no suggestion on purpose:
    /// HRK → EUR would also need the amounts converted, which a hint cannot promise.
    public static func suggestion(for code: String) -> String? {
        if isValid(code) { return nil }
        let trimmed = ValueText.string(ValueText.trimmedScalars(code))
        if let known = symbols[trimmed.uppercased()] { return known }
        let upper = ValueText.asciiUppercased(trimmed)
        return isValid(upper) ? upper : nil
    }

    /// What shop exports put in the currency column instead of a code.
    static let symbols: [String: String] = [
        "ZŁ": "PLN", "ZL": "PLN", "€": "EUR", "$": "USD", "US$": "USD", "£": "GBP", "KČ": "CZK",
        "FT": "HUF",
    ]

    static let nonMonetary: Set<String> = [
        "XAG", "XAU", "XPD", "XPT", "XBA", "XBB", "XBC", "XBD", "XDR", "XSU", "XUA", "XTS", "XXX",
    ]

    static let active: Set<String> = [
        "AED", "AFN", "ALL", "AMD", "ANG", "AOA", "ARS", "AUD", "AWG", "AZN",
        "BAM", "BBD", "BDT", "BGN", "BHD", "BIF", "BMD", "BND", "BOB", "BOV", "BRL", "BSD", "BTN",
        "BWP", "BYN", "BZD",
        "CAD", "CDF", "CHE", "CHF", "CHW", "CLF", "CLP", "CNY", "COP", "COU", "CRC", "CUC", "CUP",
        "CVE", "CZK",
        "DJF", "DKK", "DOP", "DZD",
        "EGP", "ERN", "ETB", "EUR",
        "FJD", "FKP",
        "GBP", "GEL", "GHS", "GIP", "GMD", "GNF", "GTQ", "GYD",
        "HKD", "HNL", "HTG", "HUF",
        "IDR", "ILS", "INR", "IQD", "IRR", "ISK",
        "JMD", "JOD", "JPY",
        "KES", "KGS", "KHR", "KMF", "KPW", "KRW", "KWD", "KYD", "KZT",
        "LAK", "LBP", "LKR", "LRD", "LSL", "LYD",
        "MAD", "MDL", "MGA", "MKD", "MMK", "MNT", "MOP", "MRU", "MUR", "MVR", "MWK", "MXN", "MXV",
        "MYR", "MZN",
        "NAD", "NGN", "NIO", "NOK", "NPR", "NZD",
        "OMR",
        "PAB", "PEN", "PGK", "PHP", "PKR", "PLN", "PYG",
        "QAR",
        "RON", "RSD", "RUB", "RWF",
        "SAR", "SBD", "SCR", "SDG", "SEK", "SGD", "SHP", "SLE", "SLL", "SOS", "SRD", "SSP", "STN",
        "SVC", "SYP", "SZL",
        "THB", "TJS", "TMT", "TND", "TOP", "TRY", "TTD", "TWD", "TZS",
        "UAH", "UGX", "USD", "USN", "UYI", "UYU", "UYW", "UZS",
        "VED", "VES", "VND", "VUV",
        "WST",
        "XAF", "XAG", "XAU", "XBA", "XBB", "XBC", "XBD", "XCD", "XCG", "XDR", "XOF", "XPD", "XPF",
        "XPT", "XSU", "XTS", "XUA", "XXX",
        "YER",
        "ZAR", "ZMW", "ZWG", "ZWL",
    ]
}
