/// The languages reports are written in. Codes, field names and JSON stay the same in
/// every language; only the words for people change.
public enum ReportLanguage: String, Sendable, Codable, CaseIterable {
    case en
    case pl

    /// Plural forms: English one/other; Polish one / few (2–4, but not 12–14) / many.
    func count(_ n: Int, _ one: String, _ few: String, _ many: String) -> String {
        switch self {
        case .en:
            return "\(n) \(n == 1 ? one : many)"
        case .pl:
            if n == 1 { return "\(n) \(one)" }
            let last = n % 10, lastTwo = n % 100
            if (2...4).contains(last) && !(12...14).contains(lastTwo) { return "\(n) \(few)" }
            return "\(n) \(many)"
        }
    }

    func errors(_ n: Int) -> String {
        self == .pl ? count(n, "błąd", "błędy", "błędów") : count(n, "error", "errors", "errors")
    }

    /// "3 errors in 2 of 41 orders; nothing from this file was sent."
    func summary(errors: Int, inOrders: Int, ofOrders: Int?, warehouse: Bool) -> String {
        switch self {
        case .en:
            var s = errors == 1 ? "1 error" : "\(errors) errors"
            if inOrders > 0 && !warehouse {
                s += " in \(inOrders)"
                if let of = ofOrders, of >= inOrders { s += " of \(of)" }
                s += inOrders == 1 && (ofOrders ?? 1) == 1 ? " order" : " orders"
            }
            return s + "; nothing from this file was " + (warehouse ? "applied." : "sent.")
        case .pl:
            var s = self.errors(errors)
            if inOrders > 0 && !warehouse {
                s += inOrders == 1 ? " w 1 zamówieniu" : " w \(inOrders) zamówieniach"
                if let of = ofOrders, of >= inOrders { s += " (na \(of))" }
            }
            return s + "; nic z tego pliku nie zostało " + (warehouse ? "zastosowane." : "wysłane.")
        }
    }

    var rejected: String { self == .pl ? "ODRZUCONY" : "REJECTED" }
    var partlyAccepted: String { self == .pl ? "PRZYJĘTY CZĘŚCIOWO" : "PARTLY ACCEPTED" }

    /// "2 errors in 2 of 41 orders; the other 39 orders were sent; the 2 rejected orders are in NAME.rejects.csv."
    func partialSummary(errors: Int, inOrders: Int, ofOrders: Int, sent: Int, rejects: String?) -> String {
        let where_ = rejects.map { self == .pl ? " są w pliku \($0)" : " are in \($0)" } ?? ""
        switch self {
        case .en:
            return "\(errors == 1 ? "1 error" : "\(errors) errors") in \(inOrders) of \(ofOrders) orders; the other \(sent) \(sent == 1 ? "order was" : "orders were") sent; the rejected \(inOrders == 1 ? "order" : "orders")\(where_.isEmpty ? " were not sent" : where_)."
        case .pl:
            return "\(self.errors(errors)) w \(inOrders) z \(ofOrders) zamówień; pozostałe (\(sent)) zostały wysłane; odrzucone zamówienia\(where_.isEmpty ? " nie zostały wysłane" : where_)."
        }
    }
    var reportFor: String { self == .pl ? "Raport edidrop dla pliku" : "edidrop report for" }
    var received: String { self == .pl ? "przyjęty " : "received " }
    var ledgerID: String { self == .pl ? "nr w rejestrze" : "ledger id" }
    var format: String { self == .pl ? "format   " : "format   " }
    var value: String { self == .pl ? "wartość" : "value" }
    var fix: String { self == .pl ? "poprawka" : "fix" }
    var line: String { self == .pl ? "wiersz" : "line" }
    var column: String { self == .pl ? "kolumna" : "column" }
    var field: String { self == .pl ? "pole" : "field" }
    var wholeFile: String { self == .pl ? "Cały plik" : "The file as a whole" }
    var details: String { self == .pl ? "szczegóły" : "details" }
    var howToResubmit: String { self == .pl ? "Jak wysłać ponownie" : "How to resubmit" }

    func order(_ id: String) -> String { self == .pl ? "Zamówienie \(id)" : "Order \(id)" }

    func moreNotListed(_ n: Int) -> String {
        self == .pl ? "… oraz \(errors(n)) niewymienionych tutaj." : "… and \(n) more errors not listed."
    }

    func duplicate(of id: Int64, name: String?) -> String {
        let n = name.map { " (\($0))" } ?? ""
        return self == .pl
            ? "Te same bajty zostały już przyjęte jako plik \(id)\(n). Nic z tego pliku nie zostało wysłane."
            : "the same bytes were already received as file \(id)\(n). Nothing from this file was sent."
    }

    func encodingNote(_ encoding: String, fallback: Bool) -> String {
        guard fallback else { return encoding }
        return self == .pl
            ? "\(encoding) (plik nie jest w UTF-8 i nie ma BOM: odczytany w kodowaniu z konfiguracji)"
            : "\(encoding) (not valid UTF-8, no BOM: read with the configured encoding)"
    }

    func resubmit(channel: Channel, duplicate: Bool) -> String {
        let folder = channel == .orders ? "inbox/" : "from-warehouse/"
        switch (self, duplicate) {
        case (.en, true):
            return "Nothing to do if this was sent twice by mistake. If the file was meant to be new,\ncheck that it really holds new content: identical bytes are never processed twice.\n"
        case (.pl, true):
            return "Nic nie trzeba robić, jeśli plik wysłano dwa razy przez pomyłkę. Jeśli miał być nowy,\nsprawdź, czy naprawdę ma nową treść: identyczne bajty nigdy nie są przetwarzane dwa razy.\n"
        case (.en, false):
            return "Correct the lines above in your copy of the file and drop the corrected file into\n\(folder) again. A corrected file is a new file and is taken normally; the same\nbytes dropped again are refused as DUPLICATE_FILE. Error codes are listed in the README.\n"
        case (.pl, false):
            return "Popraw powyższe wiersze w swojej kopii pliku i wrzuć poprawiony plik ponownie do\n\(folder). Poprawiony plik jest nowym plikiem i zostanie przyjęty normalnie; te same\nbajty wrzucone ponownie zostaną odrzucone jako DUPLICATE_FILE. Kody błędów opisuje README.\n"
        }
    }

    func resubmitPartial(rejects: String?) -> String {
        let file = rejects ?? (self == .pl ? "pliku z odrzuconymi zamówieniami" : "the rejects file")
        switch self {
        case .en:
            return "The other orders of this file were sent: do not send the whole file again (they would be\nDUPLICATE_ORDER). Correct the orders in \(file), which holds only them in the file's own\nlayout and encoding, and drop it into inbox/.\n"
        case .pl:
            return "Pozostałe zamówienia z tego pliku zostały wysłane: nie wysyłaj całego pliku ponownie (byłyby\nDUPLICATE_ORDER). Popraw zamówienia w \(file), który zawiera tylko je, w układzie i kodowaniu\noryginału, i wrzuć go do inbox/.\n"
        }
    }

    /// What a code means, in this language (the detailed message follows it).
    func explain(_ code: ErrorCode) -> String? {
        guard self == .pl else { return nil }
        switch code {
        case .malformed: return "plik jest uszkodzony lub niepoprawnie zbudowany"
        case .schema: return "XML nie zgadza się ze schematem"
        case .encoding: return "bajty nieprawidłowe w kodowaniu pliku"
        case .emptyFile: return "plik jest pusty"
        case .tooLarge: return "plik jest za duży"
        case .unknownFormat: return "nieznany format pliku"
        case .forbiddenDTD: return "deklaracja DOCTYPE z encjami jest niedozwolona"
        case .missingField: return "brak wymaganego pola"
        case .invalidValue: return "nieprawidłowa wartość"
        case .invalidQuantity: return "nieprawidłowa ilość (liczba całkowita)"
        case .invalidEAN: return "nieprawidłowy kod EAN/GTIN"
        case .invalidPostcode: return "nieprawidłowy kod pocztowy"
        case .invalidCountry: return "nieprawidłowy kod kraju (ISO 3166-1, np. PL)"
        case .invalidCurrency: return "nieprawidłowy kod waluty (ISO 4217, np. PLN)"
        case .invalidDate: return "nieprawidłowa data (RRRR-MM-DD lub DD.MM.RRRR)"
        case .inconsistentOrder: return "wiersze jednego zamówienia różnią się"
        case .duplicateOrder: return "to zamówienie zostało już przyjęte w innym pliku"
        case .duplicateFile: return "ten sam plik został już przyjęty"
        case .unknownOrder: return "tego zamówienia nie wysłano do magazynu"
        case .unreadable: return "pliku nie można odczytać"
        }
    }

    /// Hints are written in English by the rules; the common ones are translated.
    func translateHint(_ hint: String) -> String {
        guard self == .pl else { return hint }
        let patterns: [(String, String)] = [
            ("EAN check digit should be ", "cyfra kontrolna EAN powinna wynosić "),
            ("write it as ", "wpisz "),
            ("did you mean ", "czy chodziło o "),
        ]
        for (en, pl) in patterns where hint.hasPrefix(en) {
            return pl + hint.dropFirst(en.count)
        }
        return hint
    }
}
