import CQRSSchemaMacros
import SwiftSyntaxMacroExpansion
import SwiftSyntaxMacrosGenericTestSupport
import Testing

/// Expansion and diagnostics of `@Schema`, run through swift-syntax's XCTest-free test support.
@Suite("@Schema expansion")
struct SchemaMacroTests {
    let macros: [String: MacroSpec] = ["Schema": MacroSpec(type: SchemaMacro.self, conformances: ["JSONSchemaProviding"])]

    func expand(_ source: String, _ expanded: String, diagnostics: [DiagnosticSpec] = [], sourceLocation: SourceLocation = #_sourceLocation) {
        assertExpansion(source, expanded, macros: macros, diagnostics: diagnostics, sourceLocation: sourceLocation)
    }

    @Test func expandsStruct() {
        expand(
            """
            /// A point.
            @Schema
            struct Point {
                /// Across.
                var x: Double
                let y: Double?, label: String!
                let kind: String = "point"
                static var origin: Point { Point() }
                var length: Double { 0 }
            }
            """,
            """
            /// A point.
            struct Point {
                /// Across.
                var x: Double
                let y: Double?, label: String!
                let kind: String = "point"
                static var origin: Point { Point() }
                var length: Double { 0 }
            }

            extension Point: JSONSchemaProviding {
                public static var jsonSchema: JSONSchema {
                    _SchemaDerivation.object([
                        _SchemaDerivation.member("x", (Double).self, description: "Across."),
                        _SchemaDerivation.member("y", (Double?).self),
                        _SchemaDerivation.member("label", (Optional<String>).self),
                        _SchemaDerivation.member("kind", (String).self, decoded: false),
                    ], description: "A point.")
                }
            }
            """)
    }

    @Test func expandsGenericStructWithConditionalConformance() {
        expand(
            "@Schema\nstruct Wrapper<T, U> {\n    var value: T\n    var other: [U]\n}",
            """
            struct Wrapper<T, U> {
                var value: T
                var other: [U]
            }

            extension Wrapper: JSONSchemaProviding where T: JSONSchemaProviding, U: JSONSchemaProviding {
                public static var jsonSchema: JSONSchema {
                    _SchemaDerivation.object([
                        _SchemaDerivation.member("value", (T).self),
                        _SchemaDerivation.member("other", ([U]).self),
                    ], description: nil)
                }
            }
            """)
    }

    @Test func expandsEnums() {
        expand(
            """
            @Schema
            enum Step: Int {
                case a = 3, b
            }
            """,
            """
            enum Step: Int {
                case a = 3, b
            }

            extension Step: JSONSchemaProviding {
                public static var jsonSchema: JSONSchema {
                    JSONSchema.integerEnum([
                        3,
                        4,
                    ], description: nil)
                }
            }
            """)
        expand(
            """
            @Schema
            enum Event {
                case moved(by: Int, _ note: String)
            }
            """,
            """
            enum Event {
                case moved(by: Int, _ note: String)
            }

            extension Event: JSONSchemaProviding {
                public static var jsonSchema: JSONSchema {
                    _SchemaDerivation.taggedUnion([
                        _SchemaDerivation.enumCase("moved", description: nil, [
                            _SchemaDerivation.member("by", (Int).self),
                            _SchemaDerivation.member("_1", (String).self),
                        ]),
                    ], description: nil)
                }
            }
            """)
    }

    @Test func diagnosesUnsupportedDeclarations() {
        expand(
            "@Schema class Box {}", "class Box {}",
            diagnostics: [DiagnosticSpec(message: "@Schema cannot be applied to a class; use it on a struct or an enum", line: 1, column: 1)])
        expand(
            "@Schema protocol Shape {}", "protocol Shape {}",
            diagnostics: [DiagnosticSpec(message: "@Schema cannot be applied to a protocol; use it on a struct or an enum", line: 1, column: 1)])
        expand(
            "@Schema struct Loose {\n    var count = 0\n}", "struct Loose {\n    var count = 0\n}",
            diagnostics: [DiagnosticSpec(message: "@Schema needs an explicit type annotation on 'count'", line: 2, column: 9)])
        expand(
            "@Schema enum Odd: Int {\n    case a = 0x10\n}", "enum Odd: Int {\n    case a = 0x10\n}",
            diagnostics: [DiagnosticSpec(message: "@Schema needs a decimal integer literal raw value", line: 2, column: 14)])
        expand(
            "@Schema enum Ratio: Double {\n    case half = 0.5\n}", "enum Ratio: Double {\n    case half = 0.5\n}",
            diagnostics: [
                DiagnosticSpec(
                    message: "@Schema supports raw values of type String or a fixed-width integer only, not 'Double'", line: 1,
                    column: 14)
            ])
    }
}
