import CQRS
@testable import CQRSHTTP
import CQRSSchema
import Testing

@Suite("RSQL filters")
struct RSQLTests {
    @Test func precedenceGroupingAndOperators() throws {
        #expect(
            try RSQL.parse("a==1;b!=x,c=gt=2.5") == .or([
                .and([.compare(field: "a", op: .eq, value: 1), .compare(field: "b", op: .ne, value: "x")]),
                .compare(field: "c", op: .gt, value: 2.5),
            ]))
        #expect(
            try RSQL.parse("a=le=-3;(b==true,b==null)") == .and([
                .compare(field: "a", op: .lte, value: -3),
                .or([.compare(field: "b", op: .eq, value: true), .compare(field: "b", op: .eq, value: .null)]),
            ]))
        #expect(try RSQL.parse("s.t=in=(1,'2',x)") == .isIn(field: "s.t", values: [1, "2", "x"]))
        #expect(try RSQL.parse("s=out=(a)") == .not(.isIn(field: "s", values: ["a"])))
        #expect(try RSQL.parse(#"n=="a \"q\" ;,()""#) == .compare(field: "n", op: .eq, value: #"a "q" ;,()"#))
        #expect(try RSQL.parse("n=='007'") == .compare(field: "n", op: .eq, value: "007"), "a quoted value is a string")
        #expect(try RSQL.parse("n=like=ab*") == .compare(field: "n", op: .startsWith, value: "ab"))
        #expect(try RSQL.parse("n=like=*ab*") == .compare(field: "n", op: .contains, value: "ab"))
        // A wildcard followed by a combining mark is still a wildcard (scalars, not characters).
        #expect(try RSQL.parse("n=like=\"*\u{301}*\"") == .compare(field: "n", op: .contains, value: "\u{301}"))
        #expect(throws: (any Error).self) { try RSQL.parse("n=like=\"a*\u{301}b\"") }
        #expect(try RSQL.parse("n=ge=9223372036854775808") == .compare(field: "n", op: .gte, value: 9_223_372_036_854_775_808.0))
    }

    @Test func malformedFiltersSayWhere() {
        for text in [
            "", "a", "a==", "==1", "a=near=1", "(a==1", "a==1)", "a==1;", "a=in=1", "a=in=(1", "a=like=*b", "a=like=a*b",
            "a=='open", "1a==1", ".a==1", "a..b==1", String(repeating: "(", count: 9) + "a==1" + String(repeating: ")", count: 9),
            (0..<33).map { "a\($0)==1" }.joined(separator: ";"), "a=in=(" + (0...100).map(String.init).joined(separator: ",") + ")",
        ] {
            #expect(throws: RSQL.ParseError.self, "\(text.prefix(40))") { try RSQL.parse(text) }
        }
    }
}
