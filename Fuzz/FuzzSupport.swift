// Shared by the fuzz entries (Fuzz/FuzzCSV.swift, Fuzz/FuzzXML.swift). Not part of the
// Swift package: scripts/fuzz compiles it with swiftc together with the parser sources.
// Tests/EDIDropTests/FuzzRegressionTests.swift mirrors this logic to replay saved inputs.
#if canImport(Glibc)
import Glibc
#endif

/// Hands out the input in pieces of varying size, so that the readers' chunk-boundary
/// paths (a UTF-8 sequence, a CRLF, a doubled quote or a UTF-16 surrogate split between
/// two reads) are taken on small inputs. The pattern is derived from the input's length,
/// so the same input is always read the same way and the bytes themselves stay as found.
struct ChunkedSource: ByteSource {
    private let bytes: [UInt8]
    private var offset = 0
    private var step: Int
    private static let pattern = [1, 2, 3, 1, 5, 7, 64, 1, 4093, 2, 11, 1, 3]

    init(_ bytes: [UInt8]) {
        self.bytes = bytes
        self.step = bytes.count % Self.pattern.count
    }

    mutating func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        let want = Self.pattern[step % Self.pattern.count]
        step += 1
        let n = min(buffer.count, bytes.count - offset, want)
        guard n > 0 else { return 0 }
        bytes.withUnsafeBytes { src in
            buffer.baseAddress!.copyMemory(from: src.baseAddress! + offset, byteCount: n)
        }
        offset += n
        return n
    }
}

/// Stops the fuzzer with the evidence: a broken invariant is a finding like a crash.
func fuzzCheck(_ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String) {
    if !condition() {
        print("FUZZ INVARIANT BROKEN: \(message())")
        fatalError(message())
    }
}

/// Checks named in FUZZ_SKIP (comma-separated) are left out: a way to keep fuzzing for
/// other bugs while a known one is being fixed.
func skipped(_ check: String) -> Bool {
    guard let raw = getenv("FUZZ_SKIP") else { return false }
    return String(cString: raw).split(separator: ",").contains { $0 == check }
}

/// What every validated order must satisfy, whatever the input.
func checkValidated(_ draft: OrderDraft, _ result: (order: Order?, findings: [Diagnostic])) {
    if let order = result.order {
        fuzzCheck(result.findings.isEmpty, "an order came back together with findings")
        fuzzCheck(order.id == draft.id?.value, "the order id changed: \(String(reflecting: draft.id?.value)) -> \(String(reflecting: order.id))")
        fuzzCheck(!order.lines.isEmpty, "an order without lines passed")
        for line in order.lines {
            fuzzCheck(line.quantity >= 1 && line.quantity <= Quantity.maximum, "quantity \(line.quantity) passed")
            if let price = line.unitPrice { checkMoney(price) }
        }
        if let cod = order.cod { checkMoney(cod) }
    } else {
        fuzzCheck(!result.findings.isEmpty, "an order was refused without a finding")
    }
}

func checkMoney(_ m: Money) {
    fuzzCheck(m.minorUnits >= 0, "a negative amount passed: \(m.minorUnits)")
    fuzzCheck(!m.formatted.hasPrefix("-"), "an amount is written with a sign: \(m.formatted)")
    if case .success(let again) = Money.parse(m.formatted, separator: .point) {
        fuzzCheck(again == m, "\(m.formatted) does not read back as the same amount")
    } else {
        fuzzCheck(false, "\(m.formatted) does not read back")
    }
}
