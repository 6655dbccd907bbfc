import Foundation
import Testing

/// The README's quick start is the compiled `examples/quickstart/main.swift`, word for word.
@Suite("README")
struct ReadmeQuickstartTests {
    @Test func quickStartIsTheCompiledExample() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let readme = try String(contentsOf: root.appendingPathComponent("README.md"), encoding: .utf8)
        let example = try String(contentsOf: root.appendingPathComponent("examples/quickstart/main.swift"), encoding: .utf8)
        let section = try #require(readme.range(of: "## Quick start"), "the README has a Quick start section")
        let open = try #require(readme.range(of: "```swift\n", range: section.upperBound..<readme.endIndex))
        let close = try #require(readme.range(of: "```\n", range: open.upperBound..<readme.endIndex))
        #expect(String(readme[open.upperBound..<close.lowerBound]) == example, "copy examples/quickstart/main.swift into the README's first swift block")
    }
}
