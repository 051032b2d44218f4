import EDIDrop
import Foundation
import HTTPTypes
import Hummingbird
import Logging

/// The web console of one spool: Markup pages, `/api/...` JSON and `/metrics`, read-only
/// but for retrying a rejected file.
///
/// It holds one `Ledger` for the server's life rather than opening one per request: the
/// ledger is a GRDB `DatabasePool`, safe to share between threads, whose readers each see
/// the latest commit (WAL), so the pages show what `edidrop run` (another process) has
/// committed the moment they are loaded. Opening per request would redo the open, the
/// WAL set-up and the migration check for every page and gain nothing.
public final class WebConsole: Sendable {
    public let spool: Spool
    public let ledger: Ledger
    public let access: WebAccess
    let csrf: CSRFTokens
    let clock: any Clock
    let logger: Logger

    public init(spool: Spool, ledger: Ledger, access: WebAccess = WebAccess(token: nil), csrf: CSRFTokens = CSRFTokens(),
                clock: any Clock = SystemClock(), logger: Logger = Logger(label: "edidrop.web")) {
        self.spool = spool
        self.ledger = ledger
        self.access = access
        self.csrf = csrf
        self.clock = clock
        self.logger = logger
    }

    /// The CSRF token the retry form of file `id` carries (for tests and the page).
    public func retryToken(for id: Int64) -> String { csrf.token(retry: id) }

    /// Every route. Handlers only pick their parameters and call the page or API method.
    public func router() -> Router<BasicRequestContext> {
        let router = Router()
        router.add(middleware: ConsoleMiddleware(console: self))

        router.get("/") { _, _ in try await self.answer { try self.dashboardPage() } }
        router.get("/files") { req, _ in
            let q = Query(req)
            return try await self.answer { try self.filesPage(state: q["state"], channel: q["channel"]) }
        }
        router.get("/files/{id}") { req, ctx in
            let id = ctx.pathParameter("id"), flash = Query(req)["flash"]
            return try await self.answer { try self.filePage(id: id, flash: flash) }
        }
        router.post("/files/{id}/retry") { req, ctx in
            var req = req
            let body = try await req.collectBody(upTo: 16 * 1024)
            let form = Query(formBody: String(buffer: body))
            let id = ctx.pathParameter("id")
            return try await self.answer { try self.retry(id: id, csrfToken: form["csrf"]) }
        }
        // GET never changes anything: a retry link followed by a crawler or a prefetch does nothing.
        router.get("/files/{id}/retry") { _, _ in
            var r = self.errorPage(405, "Method not allowed", "Retrying a file takes the button on the file's page (a POST).")
            r.headers.append(("Allow", "POST"))
            return self.response(r)
        }
        router.get("/rejected") { _, _ in try await self.answer { try self.rejectedPage() } }
        router.get("/orders") { req, _ in
            let status = Query(req)["status"]
            return try await self.answer { try self.ordersPage(status: status) }
        }
        router.get("/orders/{id}") { _, ctx in
            let id = ctx.pathParameter("id")
            return try await self.answer { try self.orderPage(id: id) }
        }
        // Order ids made only of dots cannot travel as a path segment (see WebPath.order).
        router.get("/order") { req, _ in
            let id = Query(req)["id"] ?? ""
            return try await self.answer { try self.orderPage(id: id) }
        }
        router.get("/stock") { _, _ in try await self.answer { try self.stockPage() } }

        router.get("/api/status") { _, _ in try await self.answer(json: true) { try self.statusJSON() } }
        router.get("/api/files") { req, _ in
            let q = Query(req)
            return try await self.answer(json: true) { try self.filesJSON(state: q["state"], channel: q["channel"]) }
        }
        router.get("/api/files/{id}") { _, ctx in
            let id = ctx.pathParameter("id")
            return try await self.answer(json: true) { try self.fileJSON(id: id) }
        }
        router.get("/api/files/{id}/report") { _, ctx in
            let id = ctx.pathParameter("id")
            return try await self.answer(json: true) { try self.reportJSON(id: id) }
        }
        router.get("/api/rejected") { _, _ in try await self.answer(json: true) { try self.rejectedJSON() } }
        router.get("/api/orders") { req, _ in
            let status = Query(req)["status"]
            return try await self.answer(json: true) { try self.ordersJSON(status: status) }
        }
        router.get("/api/orders/{id}") { _, ctx in
            let id = ctx.pathParameter("id")
            return try await self.answer(json: true) { try self.orderJSON(id: id) }
        }
        router.get("/api/stock") { _, _ in try await self.answer(json: true) { try self.stockJSON() } }
        router.get("/metrics") { _, _ in try await self.answer { try self.metricsText() } }
        return router
    }

    /// Runs a page or API call off the async executor (the ledger and the file system
    /// block), and turns what it made, or what it threw, into a response.
    func answer(json: Bool = false, _ body: @escaping @Sendable () throws -> Rendered) async throws -> Response {
        let rendered: Rendered = await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                do {
                    continuation.resume(returning: try body())
                } catch let bad as BadRequest {
                    continuation.resume(returning: json ? .jsonError(400, bad.message) : self.errorPage(400, "Bad request", bad.message))
                } catch {
                    self.logger.error("web console request failed", metadata: ["error": "\(error)"])
                    continuation.resume(returning: json ? .jsonError(500, "internal error: \(error)")
                                                        : self.errorPage(500, "Something went wrong", "\(error)"))
                }
            }
        }
        return response(rendered)
    }

    func response(_ r: Rendered) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = r.contentType
        headers[.cacheControl] = "no-store"
        for (name, value) in r.headers {
            if let n = HTTPField.Name(name) { headers.append(HTTPField(name: n, value: value)) }
        }
        return Response(status: .init(code: r.status), headers: headers, body: .init(byteBuffer: ByteBuffer(string: r.body)))
    }
}

extension BasicRequestContext {
    /// A path parameter, percent-decoded (order ids may hold any character).
    func pathParameter(_ name: String) -> String {
        WebPath.decode(Substring(parameters.get(name) ?? ""))
    }
}

/// Query or form parameters, decoded; the first value of a name wins.
struct Query {
    let pairs: [(String, String)]

    init(_ request: Request) { pairs = WebPath.parseForm(request.uri.query ?? "") }
    init(formBody: String) { pairs = WebPath.parseForm(formBody) }

    subscript(_ name: String) -> String? { pairs.first { $0.0 == name }?.1 }
}

/// Around every route, including unknown ones: the token check when one is set, the
/// security headers, and pages for errors (404 and the rest) instead of bare text.
struct ConsoleMiddleware: RouterMiddleware {
    typealias Context = BasicRequestContext
    let console: WebConsole

    static let securityHeaders: [(String, String)] = [
        ("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'"),
        ("X-Content-Type-Options", "nosniff"),
        ("Referrer-Policy", "no-referrer"),
        ("X-Frame-Options", "DENY"),
    ]

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response: Response
        if let refusal = console.checkToken(request) {
            response = refusal
        } else {
            do {
                response = try await next(request, context)
            } catch let error as HTTPError {
                let isAPI = request.uri.path.hasPrefix("/api/")
                let r: Rendered
                switch error.status.code {
                case 404: r = isAPI ? .jsonError(404, "no such resource") : console.notFoundPage("There is no page at this address.")
                default: r = isAPI ? .jsonError(error.status.code, error.body ?? error.status.reasonPhrase)
                                   : console.errorPage(error.status.code, error.status.reasonPhrase, error.body ?? "")
                }
                response = console.response(r)
            }
        }
        for (name, value) in Self.securityHeaders {
            response.headers[HTTPField.Name(name)!] = value
        }
        return response
    }
}

extension WebConsole {
    /// The cookie a browser keeps the token in after visiting `/?token=…`.
    static let tokenCookie = "token"

    /// nil when the request may go on; otherwise the response to send instead.
    func checkToken(_ request: Request) -> Response? {
        guard access.token != nil else { return nil }
        let query = Query(request)
        if let presented = query["token"] {
            guard access.accepts(presented) else { return unauthorized(request) }
            // Keep the token in an HttpOnly cookie and take it out of the address bar (and
            // the history) at once.
            let rest = query.pairs.filter { $0.0 != "token" }
                .map { WebPath.query($0.0) + "=" + WebPath.query($0.1) }.joined(separator: "&")
            var r = Rendered.redirect(request.uri.path + (rest.isEmpty ? "" : "?" + rest))
            r.headers.append(("Set-Cookie", "\(Self.tokenCookie)=\(WebPath.query(presented)); Path=/; HttpOnly; SameSite=Strict"))
            return response(r)
        }
        if let auth = request.headers[.authorization], auth.lowercased().hasPrefix("bearer "),
           access.accepts(String(auth.dropFirst("bearer ".count)).trimmingCharacters(in: .whitespaces)) {
            return nil
        }
        if let cookie = request.cookies[Self.tokenCookie], access.accepts(WebPath.decode(Substring(cookie.value))) {
            return nil
        }
        return unauthorized(request)
    }

    func unauthorized(_ request: Request) -> Response {
        var r: Rendered = request.uri.path.hasPrefix("/api/") || request.uri.path == "/metrics"
            ? .jsonError(401, "this console needs its token: send Authorization: Bearer TOKEN")
            : errorPage(401, "Token needed", "This console is reachable from the network, so it needs its token. "
                        + "Open /?token=YOUR_TOKEN once in this browser (it is then kept in a cookie), or send the header Authorization: Bearer YOUR_TOKEN.")
        r.headers.append(("WWW-Authenticate", "Bearer realm=\"edidrop\""))
        return response(r)
    }
}
