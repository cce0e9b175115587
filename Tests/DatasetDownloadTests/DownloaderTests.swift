import Datasets
import DatasetDownload
import Foundation
import FoveaTestSupport
import XCTest

/// `DatasetDownloader` against a loopback server: mirrors, resume, digests, archives.
final class DownloaderTests: XCTestCase {
    /// Deterministic bytes that are not all alike.
    func bytes(_ count: Int, seed: Int = 1) -> [UInt8] {
        (0..<count).map { UInt8(truncatingIfNeeded: ($0 &* 2_654_435_761 &+ seed &* 40_503) >> 7) }
    }

    /// A manifest of `files`, digests computed from the bytes served.
    func manifest(_ files: [(String, [UInt8])], mirrors: [URL] = [], uncompressed: [String: String] = [:],
                  archive: ArchiveLayout? = nil) -> DatasetManifest {
        DatasetManifest(name: "test-set", displayName: "Test set", folder: "test-set", mirrors: mirrors,
                        files: files.map { RemoteFile(name: $0.0, size: $0.1.count, sha256: SHA256.hexDigest($0.1),
                                                      uncompressedSHA256: uncompressed[$0.0]) },
                        archive: archive, offlineHint: "ask a colleague")
    }

    func testFullDownloadIsVerifiedAndRenamed() throws {
        let a = bytes(70_000), b = bytes(10, seed: 2)
        let server = try LoopbackFileServer(files: ["a.bin": a, "b.bin": b])
        defer { server.stop() }
        let cache = try makeTemporaryDirectory()
        let events = EventLog()
        let folder = try DatasetDownloader(cache: cache, mirrors: [server.baseURL])
            .download(manifest([("a.bin", a), ("b.bin", b)]), events: events.record)
        XCTAssertEqual(folder.standardizedFileURL.path, cache.appendingPathComponent("test-set").standardizedFileURL.path)
        XCTAssertEqual(try Array(Data(contentsOf: folder.appendingPathComponent("a.bin"))), a)
        XCTAssertEqual(try Array(Data(contentsOf: folder.appendingPathComponent("b.bin"))), b)
        XCTAssertFalse(FileManager.default.fileExists(atPath: folder.appendingPathComponent("a.bin.part").path))
        XCTAssertEqual(server.requests, [.init(path: "/a.bin", range: nil), .init(path: "/b.bin", range: nil)])
        XCTAssertTrue(events.events.contains(.received(file: "a.bin", bytes: a.count, resumedAt: nil, restarted: false)))
        XCTAssertEqual(events.events.filter { $0 == .verified(file: "a.bin", by: .publishedDigest) }.count, 1)

        // A second run finds both verified and fetches nothing.
        let again = EventLog()
        try DatasetDownloader(cache: cache, mirrors: [server.baseURL]).download(manifest([("a.bin", a), ("b.bin", b)]), events: again.record)
        XCTAssertEqual(server.requests.count, 2)
        XCTAssertEqual(again.events.count, 2)
        XCTAssertTrue(again.events.allSatisfy { $0.description.contains("already present, verified") }, "\(again.events)")
        // --force fetches again.
        try DatasetDownloader(cache: cache, mirrors: [server.baseURL], force: true).download(manifest([("a.bin", a), ("b.bin", b)]))
        XCTAssertEqual(server.requests.count, 4)
    }

    func testPartialFileIsResumedWithRange() throws {
        let a = bytes(100_000)
        let server = try LoopbackFileServer(files: ["a.bin": a])
        defer { server.stop() }
        let cache = try makeTemporaryDirectory()
        let folder = cache.appendingPathComponent("test-set")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try Data(a[..<37_000]).write(to: folder.appendingPathComponent("a.bin.part"))
        let events = EventLog()
        try DatasetDownloader(cache: cache, mirrors: [server.baseURL]).download(manifest([("a.bin", a)]), events: events.record)
        XCTAssertEqual(server.requests, [.init(path: "/a.bin", range: "bytes=37000-")])
        XCTAssertEqual(try Array(Data(contentsOf: folder.appendingPathComponent("a.bin"))), a)
        XCTAssertTrue(events.events.contains(.received(file: "a.bin", bytes: 63_000, resumedAt: 37_000, restarted: false)), "\(events.events)")
        XCTAssertTrue(events.events.map(\.description).contains { $0.contains("resuming at 37000 bytes") })
    }

    func testServerIgnoringRangeStillGivesTheRightFile() throws {
        let a = bytes(50_000)
        let server = try LoopbackFileServer(files: ["a.bin": a], honoursRanges: false)
        defer { server.stop() }
        let cache = try makeTemporaryDirectory()
        let folder = cache.appendingPathComponent("test-set")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try Data(a[..<20_000]).write(to: folder.appendingPathComponent("a.bin.part"))
        let events = EventLog()
        try DatasetDownloader(cache: cache, mirrors: [server.baseURL]).download(manifest([("a.bin", a)]), events: events.record)
        XCTAssertEqual(server.requests, [.init(path: "/a.bin", range: "bytes=20000-")])
        XCTAssertEqual(try Array(Data(contentsOf: folder.appendingPathComponent("a.bin"))), a)
        XCTAssertTrue(events.events.contains(.received(file: "a.bin", bytes: a.count, resumedAt: nil, restarted: true)))
    }

    /// 416 to the range request: the part was already whole, and is accepted once verified.
    func testCompletePartAnswered416IsVerifiedAndKept() throws {
        let a = bytes(4_000)
        let server = try LoopbackFileServer(files: ["a.bin": a])
        defer { server.stop() }
        let cache = try makeTemporaryDirectory()
        let folder = cache.appendingPathComponent("test-set")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try Data(a).write(to: folder.appendingPathComponent("a.bin.part"))
        try DatasetDownloader(cache: cache, mirrors: [server.baseURL]).download(manifest([("a.bin", a)]))
        XCTAssertEqual(server.requests, [.init(path: "/a.bin", range: "bytes=4000-")])
        XCTAssertEqual(try Array(Data(contentsOf: folder.appendingPathComponent("a.bin"))), a)
    }

    /// A part file holding bytes of another copy fails its check once resumed, and is
    /// fetched again from the start.
    func testStalePartIsRefetchedFromTheStart() throws {
        let a = bytes(30_000)
        let server = try LoopbackFileServer(files: ["a.bin": a])
        defer { server.stop() }
        let cache = try makeTemporaryDirectory()
        let folder = cache.appendingPathComponent("test-set")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try Data(bytes(10_000, seed: 9)).write(to: folder.appendingPathComponent("a.bin.part"))
        try DatasetDownloader(cache: cache, mirrors: [server.baseURL]).download(manifest([("a.bin", a)]))
        XCTAssertEqual(server.requests, [.init(path: "/a.bin", range: "bytes=10000-"), .init(path: "/a.bin", range: nil)])
        XCTAssertEqual(try Array(Data(contentsOf: folder.appendingPathComponent("a.bin"))), a)
    }

    func testWrongDigestIsAnErrorNamingBothDigestsAndLeavesNoFile() throws {
        let served = bytes(5_000), expected = bytes(5_000, seed: 3)
        let server = try LoopbackFileServer(files: ["a.bin": served])
        defer { server.stop() }
        let cache = try makeTemporaryDirectory()
        XCTAssertThrowsError(try DatasetDownloader(cache: cache, mirrors: [server.baseURL]).download(manifest([("a.bin", expected)]))) { error in
            XCTAssertEqual(error as? DownloadError, .checksumMismatch(file: "a.bin", url: server.baseURL.absoluteString + "a.bin",
                                                                      expected: SHA256.hexDigest(expected), actual: SHA256.hexDigest(served),
                                                                      uncompressed: nil))
            let message = "\(error)"
            for needle in ["a.bin", SHA256.hexDigest(expected), SHA256.hexDigest(served), "SHA-256", server.baseURL.absoluteString] {
                XCTAssertTrue(message.contains(needle), "'\(message)' lacks '\(needle)'")
            }
        }
        let folder = cache.appendingPathComponent("test-set")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder.path), [], "neither the final file nor the part is left")
    }

    func testRefusedFirstMirrorFallsThroughToTheSecond() throws {
        let a = bytes(2_000)
        let server = try LoopbackFileServer(files: ["a.bin": a])
        defer { server.stop() }
        let closed = URL(string: "http://127.0.0.1:\(try LoopbackFileServer.closedPort())/")!
        let cache = try makeTemporaryDirectory()
        let events = EventLog()
        try DatasetDownloader(cache: cache, mirrors: [closed, server.baseURL]).download(manifest([("a.bin", a)]), events: events.record)
        XCTAssertEqual(try Array(Data(contentsOf: cache.appendingPathComponent("test-set/a.bin"))), a)
        XCTAssertTrue(events.events.contains { if case .mirrorFailed(_, let url, _) = $0 { return url == closed.absoluteString + "a.bin" }; return false },
                      "\(events.events)")
    }

    /// An HTTP error is not "offline": a 404 from one mirror and a refusal from another
    /// gives the every-mirror-failed error listing both.
    func testMissingFileOnEveryMirrorListsTheReasons() throws {
        let server = try LoopbackFileServer(files: [:])
        defer { server.stop() }
        let closed = URL(string: "http://127.0.0.1:\(try LoopbackFileServer.closedPort())/")!
        let cache = try makeTemporaryDirectory()
        XCTAssertThrowsError(try DatasetDownloader(cache: cache, mirrors: [server.baseURL, closed]).download(manifest([("a.bin", bytes(3))]))) { error in
            guard case .mirrorsFailed(let file, let attempts)? = error as? DownloadError else { return XCTFail("\(error)") }
            XCTAssertEqual(file, "a.bin")
            XCTAssertEqual(attempts.map(\.unreachable), [false, true])
            XCTAssertTrue(attempts[0].reason.contains("404"), attempts[0].reason)
        }
    }

    func testAllMirrorsUnreachableIsTheOfflineError() throws {
        let first = URL(string: "http://127.0.0.1:\(try LoopbackFileServer.closedPort())/")!
        let second = URL(string: "http://127.0.0.1:\(try LoopbackFileServer.closedPort())/set/")!
        let cache = try makeTemporaryDirectory()
        XCTAssertThrowsError(try DatasetDownloader(cache: cache, mirrors: [first, second]).download(manifest([("a.bin", bytes(3))]))) { error in
            guard case .offline(_, let file, let folder, _, let attempts, _)? = error as? DownloadError else { return XCTFail("\(error)") }
            XCTAssertEqual(file, "a.bin")
            XCTAssertEqual(attempts.map(\.url), [first.absoluteString + "a.bin", second.absoluteString + "a.bin"])
            let message = "\(error)"
            for needle in ["no mirror", first.absoluteString, second.absoluteString, folder, "by hand", "--mirror", "ask a colleague"] {
                XCTAssertTrue(message.contains(needle), "'\(message)' lacks '\(needle)'")
            }
        }
    }

    /// A mirror that recompressed a `.gz` file is accepted when the contents have the known digest.
    func testRecompressedGzipIsAcceptedByItsUncompressedDigest() throws {
        let contents = bytes(20_000)
        let published = try Gzip.compress(contents, level: 9)
        let recompressed = try Gzip.compress(contents, level: 1)
        XCTAssertNotEqual(published, recompressed)
        let server = try LoopbackFileServer(files: ["x.gz": recompressed])
        defer { server.stop() }
        let cache = try makeTemporaryDirectory()
        let events = EventLog()
        let set = manifest([("x.gz", published)], uncompressed: ["x.gz": SHA256.hexDigest(contents)])
        try DatasetDownloader(cache: cache, mirrors: [server.baseURL]).download(set, events: events.record)
        XCTAssertEqual(try Array(Data(contentsOf: cache.appendingPathComponent("test-set/x.gz"))), recompressed)
        XCTAssertTrue(events.events.contains(.verified(file: "x.gz", by: .uncompressedDigest)))

        // Different contents fail both checks, and the message quotes both.
        server.files = ["x.gz": try Gzip.compress(bytes(20_000, seed: 5))]
        XCTAssertThrowsError(try DatasetDownloader(cache: cache, mirrors: [server.baseURL], force: true).download(set)) { error in
            XCTAssertTrue("\(error)".contains("uncompressed contents: expected \(SHA256.hexDigest(contents))"), "\(error)")
        }
    }

    /// An archive is unpacked after its check, and its promised members are checked too.
    func testArchiveIsUnpackedAndChecked() throws {
        let source = try makeTemporaryDirectory()
        let batches = source.appendingPathComponent("batches")
        try FileManager.default.createDirectory(at: batches, withIntermediateDirectories: true)
        let record = [UInt8(3)] + [UInt8](repeating: 7, count: CIFAR.imageBytes)
        try Data(record + record).write(to: batches.appendingPathComponent("data.bin"))
        try Data("a\nb\n".utf8).write(to: batches.appendingPathComponent("names.txt"))
        let tarred = try makeTar(of: "batches", in: source)
        let archive = try Gzip.compress(tarred)
        let server = try LoopbackFileServer(files: ["set.tar.gz": archive])
        defer { server.stop() }
        let layout = ArchiveLayout(archive: "set.tar.gz", dataFolder: "batches",
                                   members: [.init("data.bin", size: 2 * record.count), .init("names.txt")], cifarVariant: .cifar10)
        let cache = try makeTemporaryDirectory()
        let folder = try DatasetDownloader(cache: cache, mirrors: [server.baseURL]).download(manifest([("set.tar.gz", archive)], archive: layout))
        XCTAssertEqual(folder.lastPathComponent, "batches")
        XCTAssertEqual(try Array(Data(contentsOf: folder.appendingPathComponent("data.bin"))), record + record)
        XCTAssertEqual(try CIFAR.load(["data.bin"], from: folder, variant: .cifar10).labels, [3, 3])

        // A member of the wrong size is reported by name.
        let wrong = ArchiveLayout(archive: "set.tar.gz", dataFolder: "batches", members: [.init("data.bin", size: 99)])
        XCTAssertThrowsError(try DatasetDownloader(cache: cache, mirrors: [server.baseURL], force: true)
            .download(manifest([("set.tar.gz", archive)], archive: wrong))) { error in
            XCTAssertTrue("\(error)".contains("data.bin: \(2 * record.count) bytes, expected 99"), "\(error)")
        }
    }
}

/// Collects events from the downloader's queue.
final class EventLog: @unchecked Sendable {
    private let lock = NSLock()
    private var _events: [DownloadEvent] = []
    var events: [DownloadEvent] { lock.withLock { _events.filter { if case .progress = $0 { return false }; return true } } }
    var record: @Sendable (DownloadEvent) -> Void { { [self] event in lock.withLock { _events.append(event) } } }
}

/// `tar -cf` of `item` (a path relative to `folder`), read back as bytes.
func makeTar(of item: String, in folder: URL, format: String = "gnu") throws -> [UInt8] {
    let output = folder.appendingPathComponent("out-\(UUID().uuidString).tar")
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/tar")
    process.arguments = ["--format=\(format)", "-cf", output.path, "-C", folder.path, item]
    try process.run()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else { throw XCTSkip("/usr/bin/tar failed with status \(process.terminationStatus)") }
    defer { try? FileManager.default.removeItem(at: output) }
    return [UInt8](try Data(contentsOf: output))
}
