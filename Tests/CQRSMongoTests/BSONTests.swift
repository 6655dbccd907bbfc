import CQRSSchema
import Foundation
import Testing

@testable import CQRSMongo

@Suite("BSON and query translation")
struct BSONTests {
    @Test func documentsRoundTrip() throws {
        let document: BSONDocument = [
            "s": "héllo \u{1F600}", "i": .int64(Int64.max), "j": .int32(-7), "d": .double(0.1), "b": true, "n": .null,
            "a": .array([1, "x", .document(["k": false])]), "t": .datetime(1_700_000_000_123), "o": .document([:]),
        ]
        let decoded = try BSONReader.document(document.bytes)
        #expect(decoded == document)
        #expect(decoded["i"]?.int64 == Int64.max && decoded["d"] == .double(0.1))
    }

    @Test func malformedBytesAreRefused() {
        let sample: BSONDocument = ["s": "abc"]
        var bytes = sample.bytes
        bytes[0] = 200  // a length beyond the buffer
        #expect(throws: BSONReader.Malformed.self) { try BSONReader.document(bytes) }
        #expect(throws: BSONReader.Malformed.self) { try BSONReader.document([5, 0, 0]) }
        var string = sample.bytes
        string[7] = 0x7F  // a string length past the end
        #expect(throws: BSONReader.Malformed.self) { try BSONReader.document(string) }
    }

    @Test func regexesMatchLiterally() throws {
        let escaped = MongoDocumentQuery.escapeRegex("a.b*c(d)[e]{f}|g^h$i\\j+k?l-m/n#o")
        let regex = try NSRegularExpression(pattern: "^" + escaped)
        let text = "a.b*c(d)[e]{f}|g^h$i\\j+k?l-m/n#o tail"
        #expect(regex.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) != nil)
        #expect(regex.firstMatch(in: "aXb", range: NSRange(location: 0, length: 3)) == nil)
        // A metacharacter followed by a combining mark is one Character but still escaped.
        for needle in [".\u{301}", "(\u{301}", "*\u{301}", "[\u{200D}"] {
            let literal = try NSRegularExpression(pattern: MongoDocumentQuery.escapeRegex(needle))
            #expect(literal.firstMatch(in: "e\u{301}", range: NSRange(location: 0, length: 2)) == nil, "\(needle)")
            let haystack = "x" + needle
            #expect(literal.firstMatch(in: haystack, range: NSRange(haystack.startIndex..., in: haystack)) != nil, "\(needle)")
        }
    }

    @Test func leavesTagEveryPathWithItsKind() {
        let leaves = MongoDocumentQuery.leaves(.object(["a": .object(["b": .int(2)]), "c": .array([.int(1)]), "d": .null]))
        let tagged = leaves.array?.compactMap { leaf -> String? in
            guard let leaf = leaf.document, let path = leaf["p"]?.string, let rank = leaf["t"]?.int64 else { return nil }
            return "\(path):\(rank)"
        }
        #expect(tagged == ["a:4", "a.b:2", "c:4", "d:0"])
    }

    @Test func urlsAreRedacted() {
        #expect(MongoDatabase.redacted("mongodb://ada:s3cret@db1:27017,db2/shop?replicaSet=rs") == "mongodb://ada@db1:27017,db2/shop?replicaSet=rs")
        #expect(MongoDatabase.redacted("mongodb://db/shop") == "mongodb://db/shop")
        #expect(!MongoDatabase.isValidDatabaseName("a.b") && !MongoDatabase.isValidDatabaseName("") && MongoDatabase.isValidDatabaseName("bank_1"))
    }
}
