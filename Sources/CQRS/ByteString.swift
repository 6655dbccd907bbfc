/// A string compared and hashed by its UTF-8 bytes, as the SQL stores compare text.
///
/// Swift's `String` equality is canonical equivalence (`"é" == "e\u{301}"`), so a `String`-keyed
/// dictionary would merge ids, idempotency keys or cache entries that every SQL store keeps apart.
/// Every in-process map from ids or keys uses this type instead.
struct ByteString: Hashable, Sendable {
    let string: String

    init(_ string: String) {
        self.string = string
    }

    static func == (lhs: ByteString, rhs: ByteString) -> Bool {
        lhs.string.utf8.elementsEqual(rhs.string.utf8)
    }

    func hash(into hasher: inout Hasher) {
        var copy = string
        copy.withUTF8 { hasher.combine(bytes: UnsafeRawBufferPointer($0)) }
        hasher.combine(string.utf8.count)
    }
}
