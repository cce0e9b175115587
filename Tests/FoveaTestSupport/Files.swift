import Foundation
import XCTest

extension XCTestCase {
    /// A fresh, empty directory under the system temporary directory, removed when the test ends.
    public func makeTemporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("fovea-test-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url
    }
}

/// The repository root, found from this file's path (Tests/FoveaTestSupport/Files.swift).
public let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent()

/// The repository's bundled MNIST folder, `Data/mnist`.
public let bundledMNISTDirectory = repositoryRoot.appendingPathComponent("Data/mnist")
