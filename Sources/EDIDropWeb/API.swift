import EDIDrop
import Foundation

/// `/api/...`: the same JSON documents the command line prints with `--json`, from the
/// same `json()` methods of the core's read models.
extension WebConsole {
    func statusJSON() throws -> Rendered {
        .json(try ledger.status(spool: spool, now: clock.now()).json())
    }

    func filesJSON(state: String?, channel: String?) throws -> Rendered {
        let files = try ledger.files(state: try parseChoice(state, FileState.self, name: "state"),
                                     channel: try parseChoice(channel, Channel.self, name: "channel"))
        return .json(.array(files.map { $0.json() }))
    }

    func fileJSON(id idText: String) throws -> Rendered {
        guard let id = Int64(idText), let d = try ledger.detail(fileID: id) else { return .jsonError(404, "no file with id \(idText)") }
        return .json(d.json())
    }

    /// `edidrop rejected show ID --json`: the JSON report of a rejected file.
    func reportJSON(id idText: String) throws -> Rendered {
        guard let id = Int64(idText), let f = try ledger.fileRecord(id: id), f.state == .rejected else {
            return .jsonError(404, "no rejected file with id \(idText)")
        }
        return .json(try RejectionReport.load(f, ledger: ledger, original: originalPath(f)).jsonValue())
    }

    func rejectedJSON() throws -> Rendered {
        .json(.array(try ledger.files(state: .rejected).map { $0.json() }))
    }

    func ordersJSON(status: String?) throws -> Rendered {
        .json(.array(try ledger.orders(status: try parseChoice(status, OrderStatus.self, name: "status")).map { $0.json() }))
    }

    func orderJSON(id: String) throws -> Rendered {
        guard let j = try ledger.journey(orderID: id) else { return .jsonError(404, "no order \(id)") }
        return .json(j.json())
    }

    func stockJSON() throws -> Rendered {
        .json(.array(try ledger.stock().map { $0.json() }))
    }

    func metricsText() throws -> Rendered {
        let exposition = MetricsExposition(status: try ledger.status(spool: spool, now: clock.now()),
                                           recentFiles: try ledger.files(limit: MetricsExposition.histogramWindow),
                                           lastStockReport: try ledger.lastStockReport())
        return Rendered(status: 200, contentType: MetricsExposition.contentType, body: exposition.render())
    }
}

/// The console's one action: retry a rejected file (POST with a CSRF token).
extension WebConsole {
    func retry(id idText: String, csrfToken: String?) throws -> Rendered {
        guard let id = Int64(idText) else { return notFoundPage("There is no file with id \(idText).") }
        guard csrf.verify(csrfToken, retry: id) else {
            return errorPage(403, "Forbidden", "This retry form is not valid (missing or wrong token, or the console was restarted since the page was loaded). Open the file's page again and retry from there.")
        }
        do {
            _ = try RetryRequest(spool: spool, ledger: ledger, clock: clock).retry(fileID: id)
            return .redirect(WebPath.file(id) + "?flash=retried")
        } catch let failure as RetryRequest.Failure {
            if case .unknown = failure { return notFoundPage("There is no file with id \(id).") }
            return try filePage(id: String(id), failure: failure.description, status: 409)
        }
    }
}
