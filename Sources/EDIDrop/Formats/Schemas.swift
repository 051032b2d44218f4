import XMLSupport

/// The XML schemas that ship inside the program (no file or network access is needed
/// to validate). `edidrop schema NAME` prints them for users and partners.
public enum Schemas {
    public static let ordersNamespace = "urn:edidrop:orders:1"

    /// Canonical orders, `urn:edidrop:orders:1`. Structure and value shapes are checked
    /// here (SCHEMA); what a schema cannot say (check digits, postcodes per country,
    /// known country and currency codes, duplicates) is checked by the validator.
    public static let ordersXSD = """
    <?xml version="1.0" encoding="UTF-8"?>
    <xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema"
               xmlns:o="urn:edidrop:orders:1"
               targetNamespace="urn:edidrop:orders:1"
               elementFormDefault="qualified">

      <xs:element name="orders">
        <xs:complexType>
          <xs:sequence>
            <xs:element name="order" type="o:Order" minOccurs="0" maxOccurs="unbounded"/>
          </xs:sequence>
        </xs:complexType>
      </xs:element>

      <xs:simpleType name="Text">
        <xs:restriction base="xs:string"><xs:minLength value="1"/><xs:maxLength value="10000"/></xs:restriction>
      </xs:simpleType>
      <xs:simpleType name="Amount">
        <xs:restriction base="xs:string"><xs:pattern value="[0-9]{1,15}(\\.[0-9]{1,4})?"/></xs:restriction>
      </xs:simpleType>
      <xs:simpleType name="Country">
        <xs:restriction base="xs:string"><xs:pattern value="[A-Za-z]{2}"/></xs:restriction>
      </xs:simpleType>
      <xs:simpleType name="Currency">
        <xs:restriction base="xs:string"><xs:pattern value="[A-Za-z]{3}"/></xs:restriction>
      </xs:simpleType>
      <xs:simpleType name="Quantity">
        <xs:restriction base="xs:positiveInteger"><xs:maxInclusive value="1000000"/></xs:restriction>
      </xs:simpleType>

      <xs:complexType name="Order">
        <xs:sequence>
          <xs:element name="customer">
            <xs:complexType>
              <xs:attribute name="name" type="o:Text" use="required"/>
              <xs:attribute name="email" type="xs:string"/>
              <xs:attribute name="phone" type="xs:string"/>
            </xs:complexType>
          </xs:element>
          <xs:element name="shipTo">
            <xs:complexType>
              <xs:attribute name="street" type="o:Text" use="required"/>
              <xs:attribute name="city" type="o:Text" use="required"/>
              <xs:attribute name="postcode" type="o:Text" use="required"/>
              <xs:attribute name="country" type="o:Country" use="required"/>
            </xs:complexType>
          </xs:element>
          <xs:element name="delivery" minOccurs="0">
            <xs:complexType>
              <xs:attribute name="carrier" type="xs:string"/>
              <xs:attribute name="pickupPoint" type="xs:string"/>
            </xs:complexType>
          </xs:element>
          <xs:element name="payment" minOccurs="0">
            <xs:complexType>
              <xs:attribute name="cod" type="o:Amount"/>
              <xs:attribute name="currency" type="o:Currency"/>
            </xs:complexType>
          </xs:element>
          <xs:element name="notes" type="xs:string" minOccurs="0"/>
          <xs:element name="line" maxOccurs="unbounded">
            <xs:complexType>
              <xs:attribute name="sku" type="o:Text" use="required"/>
              <xs:attribute name="ean" type="xs:string"/>
              <xs:attribute name="quantity" type="o:Quantity" use="required"/>
              <xs:attribute name="unitPrice" type="o:Amount"/>
              <xs:attribute name="name" type="xs:string"/>
            </xs:complexType>
          </xs:element>
        </xs:sequence>
        <xs:attribute name="id" type="o:Text" use="required"/>
        <xs:attribute name="date" type="xs:string"/>
      </xs:complexType>
    </xs:schema>

    """

    public static let stockNamespace = "urn:edidrop:stock:1"
    public static let shipmentsNamespace = "urn:edidrop:shipments:1"

    /// Stock reports from the warehouse, `urn:edidrop:stock:1`. `asOf` on the root is the
    /// report's time; an item may carry its own.
    public static let stockXSD = """
    <?xml version="1.0" encoding="UTF-8"?>
    <xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema"
               xmlns:s="urn:edidrop:stock:1"
               targetNamespace="urn:edidrop:stock:1"
               elementFormDefault="qualified">
      <xs:element name="stock">
        <xs:complexType>
          <xs:sequence>
            <xs:element name="item" minOccurs="0" maxOccurs="unbounded">
              <xs:complexType>
                <xs:attribute name="sku" type="s:Text" use="required"/>
                <xs:attribute name="ean" type="xs:string"/>
                <xs:attribute name="available" type="xs:nonNegativeInteger" use="required"/>
                <xs:attribute name="reserved" type="xs:nonNegativeInteger"/>
                <xs:attribute name="asOf" type="xs:string"/>
              </xs:complexType>
            </xs:element>
          </xs:sequence>
          <xs:attribute name="asOf" type="xs:string"/>
        </xs:complexType>
      </xs:element>
      <xs:simpleType name="Text">
        <xs:restriction base="xs:string"><xs:minLength value="1"/><xs:maxLength value="10000"/></xs:restriction>
      </xs:simpleType>
    </xs:schema>

    """

    /// Shipment confirmations from the warehouse, `urn:edidrop:shipments:1`.
    public static let shipmentsXSD = """
    <?xml version="1.0" encoding="UTF-8"?>
    <xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema"
               xmlns:s="urn:edidrop:shipments:1"
               targetNamespace="urn:edidrop:shipments:1"
               elementFormDefault="qualified">
      <xs:element name="shipments">
        <xs:complexType>
          <xs:sequence>
            <xs:element name="shipment" minOccurs="0" maxOccurs="unbounded">
              <xs:complexType>
                <xs:attribute name="order" type="s:Text" use="required"/>
                <xs:attribute name="shippedAt" type="xs:string"/>
                <xs:attribute name="carrier" type="xs:string"/>
                <xs:attribute name="tracking" type="s:Text" use="required"/>
              </xs:complexType>
            </xs:element>
          </xs:sequence>
        </xs:complexType>
      </xs:element>
      <xs:simpleType name="Text">
        <xs:restriction base="xs:string"><xs:minLength value="1"/><xs:maxLength value="10000"/></xs:restriction>
      </xs:simpleType>
    </xs:schema>

    """

    /// Every shipped schema by the name `edidrop schema` takes.
    public static let all: [String: String] = ["orders": ordersXSD, "stock": stockXSD, "shipments": shipmentsXSD]
}

extension Schemas {
    /// The structure of the UBL 2.1 Order documents edidrop writes (`[outbox] format =
    /// "ubl"`): a compact schema of our own covering exactly the elements we emit, in the
    /// order and with the cardinalities of the OASIS UBL 2.1 schema (UBL-Order-2.1.xsd and
    /// its common components), so that a file valid here is also valid against the full
    /// schema. Three documents, one per namespace; the Order document imports the other
    /// two by the names in `ublOrderOutputParts`. Used by the tests to check every file
    /// edidrop writes.
    public static let ublOrderOutputXSD = """
    <?xml version="1.0" encoding="UTF-8"?>
    <xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema"
               xmlns:cac="urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
               xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"
               targetNamespace="urn:oasis:names:specification:ubl:schema:xsd:Order-2"
               elementFormDefault="qualified">
      <xs:import namespace="urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
                 schemaLocation="edidrop-ubl-cac.xsd"/>
      <xs:import namespace="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"
                 schemaLocation="edidrop-ubl-cbc.xsd"/>
      <xs:element name="Order">
        <xs:complexType>
          <xs:sequence>
            <xs:element ref="cbc:UBLVersionID" minOccurs="0"/>
            <xs:element ref="cbc:ID"/>
            <xs:element ref="cbc:IssueDate"/>
            <xs:element ref="cbc:IssueTime" minOccurs="0"/>
            <xs:element ref="cbc:Note" minOccurs="0" maxOccurs="unbounded"/>
            <xs:element ref="cbc:DocumentCurrencyCode" minOccurs="0"/>
            <xs:element ref="cac:BuyerCustomerParty"/>
            <xs:element ref="cac:SellerSupplierParty"/>
            <xs:element ref="cac:Delivery" minOccurs="0" maxOccurs="unbounded"/>
            <xs:element ref="cac:PaymentMeans" minOccurs="0" maxOccurs="unbounded"/>
            <xs:element ref="cac:AnticipatedMonetaryTotal" minOccurs="0"/>
            <xs:element ref="cac:OrderLine" maxOccurs="unbounded"/>
          </xs:sequence>
        </xs:complexType>
      </xs:element>
    </xs:schema>

    """

    /// Aggregate components (cac:) of the compact UBL Order schema.
    public static let ublCommonAggregateXSD = """
    <?xml version="1.0" encoding="UTF-8"?>
    <xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema"
               xmlns:cac="urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
               xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"
               targetNamespace="urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
               elementFormDefault="qualified">
      <xs:import namespace="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"
                 schemaLocation="edidrop-ubl-cbc.xsd"/>

      <xs:element name="BuyerCustomerParty" type="cac:CustomerPartyType"/>
      <xs:element name="SellerSupplierParty" type="cac:SupplierPartyType"/>
      <xs:element name="Party" type="cac:PartyType"/>
      <xs:element name="CarrierParty" type="cac:PartyType"/>
      <xs:element name="PartyName" type="cac:PartyNameType"/>
      <xs:element name="Contact" type="cac:ContactType"/>
      <xs:element name="Delivery" type="cac:DeliveryType"/>
      <xs:element name="DeliveryLocation" type="cac:LocationType"/>
      <xs:element name="Address" type="cac:AddressType"/>
      <xs:element name="Country" type="cac:CountryType"/>
      <xs:element name="PaymentMeans" type="cac:PaymentMeansType"/>
      <xs:element name="AnticipatedMonetaryTotal" type="cac:MonetaryTotalType"/>
      <xs:element name="OrderLine" type="cac:OrderLineType"/>
      <xs:element name="LineItem" type="cac:LineItemType"/>
      <xs:element name="Price" type="cac:PriceType"/>
      <xs:element name="Item" type="cac:ItemType"/>
      <xs:element name="SellersItemIdentification" type="cac:ItemIdentificationType"/>
      <xs:element name="StandardItemIdentification" type="cac:ItemIdentificationType"/>

      <xs:complexType name="CustomerPartyType">
        <xs:sequence><xs:element ref="cac:Party" minOccurs="0"/></xs:sequence>
      </xs:complexType>
      <xs:complexType name="SupplierPartyType">
        <xs:sequence><xs:element ref="cac:Party" minOccurs="0"/></xs:sequence>
      </xs:complexType>
      <xs:complexType name="PartyType">
        <xs:sequence>
          <xs:element ref="cac:PartyName" minOccurs="0" maxOccurs="unbounded"/>
          <xs:element ref="cac:Contact" minOccurs="0"/>
        </xs:sequence>
      </xs:complexType>
      <xs:complexType name="PartyNameType">
        <xs:sequence><xs:element ref="cbc:Name"/></xs:sequence>
      </xs:complexType>
      <xs:complexType name="ContactType">
        <xs:sequence>
          <xs:element ref="cbc:Telephone" minOccurs="0"/>
          <xs:element ref="cbc:ElectronicMail" minOccurs="0"/>
        </xs:sequence>
      </xs:complexType>
      <xs:complexType name="DeliveryType">
        <xs:sequence>
          <xs:element ref="cac:DeliveryLocation" minOccurs="0"/>
          <xs:element ref="cac:CarrierParty" minOccurs="0"/>
        </xs:sequence>
      </xs:complexType>
      <xs:complexType name="LocationType">
        <xs:sequence>
          <xs:element ref="cbc:ID" minOccurs="0"/>
          <xs:element ref="cac:Address" minOccurs="0"/>
        </xs:sequence>
      </xs:complexType>
      <xs:complexType name="AddressType">
        <xs:sequence>
          <xs:element ref="cbc:StreetName" minOccurs="0"/>
          <xs:element ref="cbc:CityName" minOccurs="0"/>
          <xs:element ref="cbc:PostalZone" minOccurs="0"/>
          <xs:element ref="cac:Country" minOccurs="0"/>
        </xs:sequence>
      </xs:complexType>
      <xs:complexType name="CountryType">
        <xs:sequence><xs:element ref="cbc:IdentificationCode" minOccurs="0"/></xs:sequence>
      </xs:complexType>
      <xs:complexType name="PaymentMeansType">
        <xs:sequence><xs:element ref="cbc:PaymentMeansCode"/></xs:sequence>
      </xs:complexType>
      <xs:complexType name="MonetaryTotalType">
        <xs:sequence><xs:element ref="cbc:PayableAmount"/></xs:sequence>
      </xs:complexType>
      <xs:complexType name="OrderLineType">
        <xs:sequence><xs:element ref="cac:LineItem"/></xs:sequence>
      </xs:complexType>
      <xs:complexType name="LineItemType">
        <xs:sequence>
          <xs:element ref="cbc:ID"/>
          <xs:element ref="cbc:Quantity" minOccurs="0"/>
          <xs:element ref="cac:Price" minOccurs="0"/>
          <xs:element ref="cac:Item"/>
        </xs:sequence>
      </xs:complexType>
      <xs:complexType name="PriceType">
        <xs:sequence><xs:element ref="cbc:PriceAmount"/></xs:sequence>
      </xs:complexType>
      <xs:complexType name="ItemType">
        <xs:sequence>
          <xs:element ref="cbc:Name" minOccurs="0"/>
          <xs:element ref="cac:SellersItemIdentification" minOccurs="0"/>
          <xs:element ref="cac:StandardItemIdentification" minOccurs="0"/>
        </xs:sequence>
      </xs:complexType>
      <xs:complexType name="ItemIdentificationType">
        <xs:sequence><xs:element ref="cbc:ID"/></xs:sequence>
      </xs:complexType>
    </xs:schema>

    """

    /// Basic components (cbc:) of the compact UBL Order schema, with UBL's data types:
    /// identifiers and codes are normalized strings, amounts decimals that must carry a
    /// currencyID, dates xs:date and times xs:time.
    public static let ublCommonBasicXSD = """
    <?xml version="1.0" encoding="UTF-8"?>
    <xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema"
               xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"
               targetNamespace="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"
               elementFormDefault="qualified">
      <xs:complexType name="IdentifierType">
        <xs:simpleContent>
          <xs:extension base="xs:normalizedString">
            <xs:attribute name="schemeID" type="xs:normalizedString"/>
          </xs:extension>
        </xs:simpleContent>
      </xs:complexType>
      <xs:complexType name="CodeType">
        <xs:simpleContent>
          <xs:extension base="xs:normalizedString">
            <xs:attribute name="listID" type="xs:normalizedString"/>
          </xs:extension>
        </xs:simpleContent>
      </xs:complexType>
      <xs:complexType name="TextType">
        <xs:simpleContent>
          <xs:extension base="xs:string">
            <xs:attribute name="languageID" type="xs:language"/>
          </xs:extension>
        </xs:simpleContent>
      </xs:complexType>
      <xs:complexType name="AmountType">
        <xs:simpleContent>
          <xs:extension base="xs:decimal">
            <xs:attribute name="currencyID" type="xs:normalizedString" use="required"/>
          </xs:extension>
        </xs:simpleContent>
      </xs:complexType>
      <xs:complexType name="QuantityType">
        <xs:simpleContent>
          <xs:extension base="xs:decimal">
            <xs:attribute name="unitCode" type="xs:normalizedString"/>
          </xs:extension>
        </xs:simpleContent>
      </xs:complexType>

      <xs:element name="UBLVersionID" type="cbc:IdentifierType"/>
      <xs:element name="ID" type="cbc:IdentifierType"/>
      <xs:element name="IssueDate" type="xs:date"/>
      <xs:element name="IssueTime" type="xs:time"/>
      <xs:element name="Note" type="cbc:TextType"/>
      <xs:element name="DocumentCurrencyCode" type="cbc:CodeType"/>
      <xs:element name="Name" type="cbc:TextType"/>
      <xs:element name="Telephone" type="cbc:TextType"/>
      <xs:element name="ElectronicMail" type="cbc:TextType"/>
      <xs:element name="StreetName" type="cbc:TextType"/>
      <xs:element name="CityName" type="cbc:TextType"/>
      <xs:element name="PostalZone" type="cbc:TextType"/>
      <xs:element name="IdentificationCode" type="cbc:CodeType"/>
      <xs:element name="PaymentMeansCode" type="cbc:CodeType"/>
      <xs:element name="PayableAmount" type="cbc:AmountType"/>
      <xs:element name="PriceAmount" type="cbc:AmountType"/>
      <xs:element name="Quantity" type="cbc:QuantityType"/>
    </xs:schema>

    """

    /// The imported parts of `ublOrderOutputXSD`, by the schemaLocation it gives them.
    public static let ublOrderOutputParts: [String: String] = [
        "edidrop-ubl-cac.xsd": ublCommonAggregateXSD,
        "edidrop-ubl-cbc.xsd": ublCommonBasicXSD,
    ]
}

/// Schemas compiled once per process run and shared by every file.
public final class CompiledSchemas: @unchecked Sendable {
    public let orders: XMLSchema
    public let stock: XMLSchema
    public let shipments: XMLSchema

    public init() throws {
        orders = try XMLSchema(xsd: Schemas.ordersXSD, name: "orders.xsd")
        stock = try XMLSchema(xsd: Schemas.stockXSD, name: "stock.xsd")
        shipments = try XMLSchema(xsd: Schemas.shipmentsXSD, name: "shipments.xsd")
    }
}
