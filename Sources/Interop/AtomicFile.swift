import Foundation
#if canImport(Glibc)
import Glibc
private func systemWrite(_ fd: Int32, _ bytes: UnsafeRawPointer, _ count: Int) -> Int { Glibc.write(fd, bytes, count) }
#elseif canImport(Darwin)
import Darwin
private func systemWrite(_ fd: Int32, _ bytes: UnsafeRawPointer, _ count: Int) -> Int { Darwin.write(fd, bytes, count) }
#endif

/// Files replaced whole or not at all: the new bytes go to a temporary file beside the
/// target, `.<name>.tmp-<pid>`, which is flushed to disk and then renamed over the target.
/// A failed write (a full disk, no permission) removes the temporary file and leaves the
/// previous file as it was; a process killed mid-write (SIGKILL) leaves its temporary file,
/// which `removeStaleTemporaryFiles(in:)` clears once that process is gone.
public enum AtomicFile {
    /// The temporary file a write of `url` by process `pid` goes through.
    public static func temporaryURL(for url: URL, pid: Int32 = getpid()) -> URL {
        url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).tmp-\(pid)")
    }

    /// The process id in a temporary file's name (`.<name>.tmp-<pid>`), nil for any other name.
    public static func writerPID(ofTemporaryName name: String) -> Int32? {
        guard name.hasPrefix("."), let marker = name.range(of: ".tmp-", options: .backwards),
              marker.lowerBound > name.index(after: name.startIndex) else { return nil }
        let digits = name[marker.upperBound...]
        guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }), let pid = Int32(digits), pid > 0 else { return nil }
        return pid
    }

    /// Writes `data` to `url` atomically, creating the folder if needed.
    ///
    /// - Throws: `FileWriteError` naming the file and the system's reason ("no space left on
    ///   device", "permission denied"); the target is then unchanged and no temporary file is left.
    public static func write(_ data: Data, to url: URL) throws {
        try write(data, to: url, using: systemWrite)
    }

    /// `write(_:to:)` with the call that writes each chunk replaced (POSIX `write`'s contract:
    /// bytes written, or -1 with `errno` set), so that a full disk or a failing device can be
    /// simulated.
    public static func write(_ data: Data, to url: URL, using writeChunk: (Int32, UnsafeRawPointer, Int) -> Int) throws {
        let directory = url.deletingLastPathComponent()
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw FileWriteError(path: url.path, reason: "cannot create its folder \(directory.path) (\(FileWriteError.reason(of: error)))")
        }
        let temporary = temporaryURL(for: url)
        let fd = open(temporary.path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o666)
        guard fd >= 0 else { throw FileWriteError(path: url.path, errno: errno) }
        func fail(_ code: Int32, closing: Bool = true) -> FileWriteError {
            if closing { close(fd) }
            unlink(temporary.path)
            return FileWriteError(path: url.path, errno: code)
        }
        try data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
            var done = 0
            while done < raw.count {
                let n = writeChunk(fd, raw.baseAddress! + done, raw.count - done)
                if n < 0 {
                    if errno == EINTR { continue }
                    throw fail(errno)
                }
                // A write that takes nothing is a device that is full.
                if n == 0 { throw fail(ENOSPC) }
                done += n
            }
        }
        // Network and some copy-on-write file systems report a full disk only here.
        if fsync(fd) != 0 { throw fail(errno) }
        if close(fd) != 0 { throw fail(errno, closing: false) }
        if rename(temporary.path, url.path) != 0 { throw fail(errno, closing: false) }
    }

    /// Removes the temporary files (`.<name>.tmp-<pid>`) in `directory` whose writer is no
    /// longer running, the leftovers of a killed process; other files, and the temporary
    /// files of running processes (this one included), stay. Returns what was removed.
    @discardableResult
    public static func removeStaleTemporaryFiles(in directory: URL) -> [URL] {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory.path) else { return [] }
        var removed: [URL] = []
        for name in names.sorted() {
            guard let pid = writerPID(ofTemporaryName: name), pid != getpid(), !processIsRunning(pid) else { continue }
            let url = directory.appendingPathComponent(name)
            var status = stat()
            // Only plain files: a folder or link of that name is not one of ours.
            guard lstat(url.path, &status) == 0, (status.st_mode & S_IFMT) == S_IFREG else { continue }
            if unlink(url.path) == 0 { removed.append(url) }
        }
        return removed
    }

    /// Whether a process with this id exists (one of another user counts: it may be writing).
    static func processIsRunning(_ pid: Int32) -> Bool {
        kill(pid, 0) == 0 || errno != ESRCH
    }
}

/// Writes `data` to a temporary file beside `url`, then renames it over `url` (see `AtomicFile`).
public func writeAtomically(_ data: Data, to url: URL) throws {
    try AtomicFile.write(data, to: url)
}

/// A file that could not be written, with the system's reason; the previous file, if any, is unchanged.
public struct FileWriteError: Error, CustomStringConvertible, Equatable {
    /// The file that was to be written.
    public let path: String
    /// Why not, e.g. "no space left on device (ENOSPC)".
    public let reason: String

    public init(path: String, reason: String) {
        self.path = path
        self.reason = reason
    }

    /// The error for the system error number `code` (`ENOSPC`, `EACCES`, ...).
    public init(path: String, errno code: Int32) {
        self.init(path: path, reason: FileWriteError.reason(errno: code))
    }

    public var description: String {
        "cannot write \(path): \(reason); any previous version of the file is unchanged"
    }

    /// `strerror`'s text in lower case, with the symbolic name where known: "no space left on device (ENOSPC)".
    static func reason(errno code: Int32) -> String {
        let text = String(cString: strerror(code))
        let lowered = text.prefix(1).lowercased() + text.dropFirst()
        let names: [Int32: String] = [ENOSPC: "ENOSPC", EACCES: "EACCES", EPERM: "EPERM", EROFS: "EROFS", EDQUOT: "EDQUOT",
                                      EIO: "EIO", ENOENT: "ENOENT", ENOTDIR: "ENOTDIR", EISDIR: "EISDIR", EFBIG: "EFBIG",
                                      EMFILE: "EMFILE", ENAMETOOLONG: "ENAMETOOLONG", EXDEV: "EXDEV", EBUSY: "EBUSY"]
        return names[code].map { "\(lowered) (\($0))" } ?? "\(lowered) (errno \(code))"
    }

    /// The POSIX reason inside a Foundation error where there is one, else its description.
    public static func describe(_ error: Error) -> String { reason(of: error) }

    static func reason(of error: Error) -> String {
        let ns = error as NSError
        if ns.domain == NSPOSIXErrorDomain { return reason(errno: Int32(ns.code)) }
        if let underlying = ns.userInfo[NSUnderlyingErrorKey] as? NSError, underlying.domain == NSPOSIXErrorDomain {
            return reason(errno: Int32(underlying.code))
        }
        return ns.localizedDescription
    }
}
