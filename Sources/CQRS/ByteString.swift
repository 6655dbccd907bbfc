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
        guard lhs.string.utf8.count == rhs.string.utf8.count else { return false }
        var (left, right) = (lhs.string, rhs.string)
        // On the contiguous bytes (a hot path: every cache, lock and store lookup).
        return left.withUTF8 { a in right.withUTF8 { b in a.elementsEqual(b) } }
    }

    func hash(into hasher: inout Hasher) {
        var copy = string
        copy.withUTF8 { hasher.combine(bytes: UnsafeRawBufferPointer($0)) }
        hasher.combine(string.utf8.count)
    }
}
