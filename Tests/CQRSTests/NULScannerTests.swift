@testable import CQRS
import Testing

/// The in-memory store's NUL check must see a string wherever Codable puts it.
@Suite("NUL scanner")
struct NULScannerTests {
    enum Kind: String, Codable { case plain, marked = "m\u{0}" }
    struct Inner: Codable { var tags: [String]; var counts: [Int]; var ratio: Double?; var kind: Kind }
    struct Outer: Codable { var name: String; var inner: [Inner]; var byKey: [String: Int]; var flag: Bool }

    @Test func findsNULInEveryContainerKind() throws {
        let clean = Outer(
            name: "a", inner: [Inner(tags: ["x", "y"], counts: [1, 2], ratio: 0.5, kind: .plain)], byKey: ["k": 1], flag: true)
        #expect(try !NULScanner.containsNUL(clean))
        var inName = clean
        inName.name = "a\u{0}"
        var inArray = clean
        inArray.inner[0].tags.append("z\u{0}")
        var inRawValue = clean
        inRawValue.inner[0].kind = .marked
        var inKey = clean
        inKey.byKey["k\u{0}"] = 2
        for value in [inName, inArray, inRawValue, inKey] { #expect(try NULScanner.containsNUL(value)) }
        #expect(try NULScanner.containsNUL(["plain", "nu\u{0}l"]))
        #expect(try !NULScanner.containsNUL([1.5, 2]))
        #expect(try NULScanner.containsNUL(Optional("\u{0}")))
    }
}
