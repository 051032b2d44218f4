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
