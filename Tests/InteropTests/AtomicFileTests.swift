import Foundation
import FoveaTestSupport
import Interop
import XCTest

/// Atomic writes: all or nothing, a clear reason when the system refuses, and no temporary
/// file left behind by a failure.
final class AtomicFileTests: XCTestCase {
    func names(in directory: URL) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()
    }

    func testWriteReplacesTheFileAndLeavesNoTemporary() throws {
        let dir = try makeTemporaryDirectory()
        let url = dir.appendingPathComponent("metrics.json")
        try AtomicFile.write(Data("old".utf8), to: url)
        try AtomicFile.write(Data("new".utf8), to: url)
        XCTAssertEqual(try Data(contentsOf: url), Data("new".utf8))
        XCTAssertEqual(try names(in: dir), ["metrics.json"])
    }

    // issue 29 finding 9: a full disk left a partial temporary file and a raw
    // "NSCocoaErrorDomain Code=640". The first bytes go to the temporary file, the rest to
    // /dev/full, which fails every write with ENOSPC as a full disk does.
    func testAFullDiskKeepsThePreviousFileAndRemovesTheTemporary() throws {
        let full = open("/dev/full", O_WRONLY)
        guard full >= 0 else { throw XCTSkip("no /dev/full here") }
        defer { close(full) }
        let dir = try makeTemporaryDirectory()
        let url = dir.appendingPathComponent("model.safetensors")
        try AtomicFile.write(Data("previous weights".utf8), to: url)
        var calls = 0
        XCTAssertThrowsError(try AtomicFile.write(Data(repeating: 7, count: 100_000), to: url, using: { fd, bytes, count in
            calls += 1
            return calls == 1 ? write(fd, bytes, min(count, 4096)) : write(full, bytes, count)
        })) { error in
            XCTAssertEqual(error as? FileWriteError, FileWriteError(path: url.path, reason: "no space left on device (ENOSPC)"))
            XCTAssertEqual("\(error)", "cannot write \(url.path): no space left on device (ENOSPC); any previous version of the file is unchanged")
        }
        XCTAssertEqual(calls, 2, "the partial file was written before the disk filled")
        XCTAssertEqual(try Data(contentsOf: url), Data("previous weights".utf8))
        XCTAssertEqual(try names(in: dir), ["model.safetensors"], "no temporary file is left")
    }

    // issue 29 finding 9: other refusals name the reason too.
    func testWriteErrorsNameTheFileAndTheReason() throws {
        let dir = try makeTemporaryDirectory()
        let url = dir.appendingPathComponent("history.csv")
        XCTAssertThrowsError(try AtomicFile.write(Data("x".utf8), to: url, using: { _, _, _ in errno = EACCES; return -1 })) { error in
            XCTAssertEqual("\(error)", "cannot write \(url.path): permission denied (EACCES); any previous version of the file is unchanged")
        }
        XCTAssertThrowsError(try AtomicFile.write(Data("x".utf8), to: url, using: { _, _, _ in 0 })) { error in
            XCTAssertTrue("\(error)".contains("no space left on device"), "\(error)")
        }
        XCTAssertEqual(try names(in: dir), [])
        // A folder that cannot be made: a file stands where it should be.
        let blocker = dir.appendingPathComponent("blocker")
        try Data().write(to: blocker)
        let below = blocker.appendingPathComponent("metrics.json")
        XCTAssertThrowsError(try AtomicFile.write(Data("x".utf8), to: below)) { error in
            XCTAssertTrue(error is FileWriteError, "\(error)")
            XCTAssertTrue("\(error)".hasPrefix("cannot write \(below.path): cannot create its folder"), "\(error)")
        }
    }

    func testTemporaryNamesCarryTheWriterPID() {
        let url = URL(fileURLWithPath: "/runs/a/model.safetensors")
        XCTAssertEqual(AtomicFile.temporaryURL(for: url, pid: 123).path, "/runs/a/.model.safetensors.tmp-123")
        XCTAssertEqual(AtomicFile.writerPID(ofTemporaryName: ".model.safetensors.tmp-123"), 123)
        for name in ["model.safetensors.tmp-123", ".model.safetensors.tmp-", ".model.safetensors.tmp-12a", ".tmp-123",
                     ".model.safetensors.tmp-99999999999", ".model.safetensors.tmp--5"] {
            XCTAssertNil(AtomicFile.writerPID(ofTemporaryName: name), name)
        }
    }

    // issue 29 finding 9: a SIGKILL mid-write left `.checkpoint.safetensors.tmp-PID` for good.
    func testStaleTemporaryFilesOfDeadProcessesAreRemoved() throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/true")
        try process.run()
        process.waitUntilExit()
        let dead = process.processIdentifier
        let dir = try makeTemporaryDirectory()
        let stale = [".checkpoint.safetensors.tmp-\(dead)", ".model.safetensors.tmp-\(dead)"]
        let kept = ["model.safetensors", ".history.csv.tmp-\(getpid())", "notes.tmp-\(dead)", ".notes.tmp-x\(dead)"]
        for name in stale + kept { try Data("partial".utf8).write(to: dir.appendingPathComponent(name)) }
        // A folder of that name is not a temporary file of ours.
        try FileManager.default.createDirectory(at: dir.appendingPathComponent(".folder.tmp-\(dead)"), withIntermediateDirectories: false)
        let removed = AtomicFile.removeStaleTemporaryFiles(in: dir)
        XCTAssertEqual(removed.map(\.lastPathComponent), stale)
        XCTAssertEqual(try names(in: dir), (kept + [".folder.tmp-\(dead)"]).sorted())
        XCTAssertEqual(AtomicFile.removeStaleTemporaryFiles(in: dir.appendingPathComponent("missing")), [])
    }
}
