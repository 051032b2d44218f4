/// A validated order, normalised: what the warehouse receives.
public struct Order: Codable, Sendable, Equatable {
    public struct Customer: Codable, Sendable, Equatable {
        public var name: String
        public var email: String?
        public var phone: String?
    }

    public struct Address: Codable, Sendable, Equatable {
        public var street: String
        public var city: String
        public var postcode: String
        public var country: String
    }

    public struct Line: Codable, Sendable, Equatable {
        public var sku: String
        public var ean: String?
        public var quantity: Int
        public var unitPrice: Money?
        public var name: String?
    }

    public var id: String
    public var date: DateValue?
    public var customer: Customer
    public var shipTo: Address
    public var carrier: String?
    public var pickupPoint: String?
    public var cod: Money?
    public var currency: String
    public var notes: String?
    public var lines: [Line]
}

/// A value read from a file, with where it stood, so that a finding about it can
/// point at the line and column.
public struct Located: Sendable, Equatable {
    public var value: String
    public var line: Int
    public var column: Int?

    public init(_ value: String, line: Int, column: Int? = nil) {
        self.value = value
        self.line = line
        self.column = column
    }
}

/// An order as read from a file, before validation: raw strings and their places.
/// Format readers produce drafts; the validator turns them into `Order`s or findings.
public struct OrderDraft: Sendable {
    public struct Line: Sendable {
        public var line: Int
        public var sku: Located?
        public var ean: Located?
        public var quantity: Located?
        public var unitPrice: Located?
        public var name: Located?

        public init(line: Int) { self.line = line }
    }

    /// The line where the order starts in its file.
    public var line: Int
    public var id: Located?
    public var date: Located?
    public var customerName: Located?
    public var email: Located?
    public var phone: Located?
    public var street: Located?
    public var city: Located?
    public var postcode: Located?
    public var country: Located?
    public var carrier: Located?
    public var pickupPoint: Located?
    public var cod: Located?
    public var currency: Located?
    public var notes: Located?
    public var lines: [Line] = []
    /// Findings the reader made while assembling the draft (rows that disagree, …).
    public var findings: [Diagnostic] = []

    public init(line: Int) { self.line = line }
}
