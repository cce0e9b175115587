import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// One resumable HTTP GET of `url` into a `.part` file, streamed to disk as it arrives so an
/// interrupted transfer leaves the bytes received so far.
///
/// When the part file already holds N bytes the request carries `Range: bytes=N-`:
/// - `206 Partial Content` whose `Content-Range` starts at N: the body is appended;
/// - `200 OK` (the server ignored the range): the part file is emptied and refilled;
/// - `416 Range Not Satisfiable`: nothing is sent; the part may already be whole, which the
///   caller checks.
///
/// Blocks the calling thread until the transfer ends (URLSession runs it on its own queue).
/// Do not call it from a Swift concurrency task.
struct HTTPFetch {
    /// How the transfer ended when it did not fail.
    enum Outcome: Equatable {
        /// The body was written; `resumedAt` is the offset it was appended at (nil: from 0),
        /// `restarted` says a range request was answered with the whole file.
        case complete(bytes: Int, resumedAt: Int?, restarted: Bool)
        /// 416: the server has nothing past the `partBytes` already held.
        case rangeNotSatisfiable(partBytes: Int)
    }

    /// Why the transfer failed; `unreachable` when no answer came at all.
    struct Failure: Error {
        var reason: String
        var unreachable: Bool
    }

    /// Seconds without progress (connecting or receiving) before giving up.
    var timeout: TimeInterval
    /// Called now and then with bytes received so far (of this response) and the total
    /// the server announced, when it did.
    var progress: @Sendable (_ received: Int, _ total: Int?) -> Void = { _, _ in }

    /// Fetches `url` into `part`, resuming after the bytes it holds.
    func run(_ url: URL, into part: URL) throws(Failure) -> Outcome {
        let offset = (try? FileManager.default.attributesOfItem(atPath: part.path)[.size] as? Int) ?? 0
        var request = URLRequest(url: url, cachePolicy: .reloadIgnoringLocalCacheData, timeoutInterval: timeout)
        // Bytes as stored: a transparently decoded body would not match the published digest.
        request.setValue("identity", forHTTPHeaderField: "Accept-Encoding")
        if offset > 0 { request.setValue("bytes=\(offset)-", forHTTPHeaderField: "Range") }

        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = timeout
        configuration.requestCachePolicy = .reloadIgnoringLocalCacheData
        let queue = OperationQueue()
        queue.maxConcurrentOperationCount = 1
        let receiver = Receiver(part: part, offset: offset, progress: progress)
        let session = URLSession(configuration: configuration, delegate: receiver, delegateQueue: queue)
        session.dataTask(with: request).resume()
        receiver.done.wait()
        session.finishTasksAndInvalidate()
        return try receiver.result()
    }
}

/// The session delegate: checks the status, then streams the body into the part file.
/// URLSession calls it on one serial queue; the lock guards what `run` reads afterwards.
private final class Receiver: NSObject, URLSessionDataDelegate, @unchecked Sendable {
    let done = DispatchSemaphore(value: 0)
    private let part: URL
    private let offset: Int
    private let progress: @Sendable (Int, Int?) -> Void
    private let lock = NSLock()
    private var handle: FileHandle?
    private var received = 0
    private var total: Int?
    private var nextReport = 0
    private var resumedAt: Int?
    private var restarted = false
    private var outcome: HTTPFetch.Outcome?
    private var failure: HTTPFetch.Failure?

    init(part: URL, offset: Int, progress: @escaping @Sendable (Int, Int?) -> Void) {
        self.part = part; self.offset = offset; self.progress = progress
    }

    func result() throws(HTTPFetch.Failure) -> HTTPFetch.Outcome {
        let (outcome, failure) = lock.withLock { (self.outcome, self.failure) }
        if let failure { throw failure }
        guard let outcome else { throw HTTPFetch.Failure(reason: "the transfer ended without an answer", unreachable: true) }
        return outcome
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive response: URLResponse,
                    completionHandler: @escaping @Sendable (URLSession.ResponseDisposition) -> Void) {
        let decision = lock.withLock { accept(response) }
        completionHandler(decision)
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive data: Data) {
        let report: (Int, Int?)? = lock.withLock {
            guard failure == nil, let handle else { return nil }
            do { try handle.write(contentsOf: data) } catch {
                failure = HTTPFetch.Failure(reason: "cannot write \(part.path): \(error.localizedDescription)", unreachable: false)
                dataTask.cancel()
                return nil
            }
            received += data.count
            guard received >= nextReport else { return nil }
            nextReport = received + max(1 << 20, (total ?? 0) / 10)
            return (received, total)
        }
        if let report { progress(report.0, report.1) }
    }

    func urlSession(_ session: URLSession, task: URLSessionTask, didCompleteWithError error: Error?) {
        lock.withLock {
            try? handle?.close()
            handle = nil
            if failure == nil, outcome == nil {
                if let error {
                    failure = HTTPFetch.Failure(reason: Self.describe(error), unreachable: Self.isUnreachable(error))
                } else {
                    outcome = .complete(bytes: received, resumedAt: resumedAt, restarted: restarted)
                }
            }
        }
        done.signal()
    }

    /// Decides on the status line and headers; opens the part file for the body. Holds the lock.
    private func accept(_ response: URLResponse) -> URLSession.ResponseDisposition {
        guard let http = response as? HTTPURLResponse else {
            failure = HTTPFetch.Failure(reason: "not an HTTP response", unreachable: false)
            return .cancel
        }
        let length = (http.value(forHTTPHeaderField: "Content-Length")).flatMap { Int($0) }
        switch http.statusCode {
        case 206 where offset > 0:
            let range = http.value(forHTTPHeaderField: "Content-Range") ?? ""
            guard Self.rangeStart(range) == offset else {
                failure = HTTPFetch.Failure(reason: "asked for bytes from \(offset), got Content-Range '\(range)'", unreachable: false)
                return .cancel
            }
            resumedAt = offset
            total = length
            return open(truncate: false)
        case 200:
            restarted = offset > 0
            total = length
            return open(truncate: true)
        case 416 where offset > 0:
            outcome = .rangeNotSatisfiable(partBytes: offset)
            return .cancel
        default:
            failure = HTTPFetch.Failure(reason: "HTTP \(http.statusCode) \(HTTPURLResponse.localizedString(forStatusCode: http.statusCode))",
                                        unreachable: false)
            return .cancel
        }
    }

    /// Opens the part file for appending (after emptying it when `truncate`).
    private func open(truncate: Bool) -> URLSession.ResponseDisposition {
        do {
            if truncate || !FileManager.default.fileExists(atPath: part.path) {
                guard FileManager.default.createFile(atPath: part.path, contents: nil) else {
                    throw CocoaError(.fileWriteNoPermission)
                }
            }
            let handle = try FileHandle(forWritingTo: part)
            try handle.seekToEnd()
            self.handle = handle
            return .allow
        } catch {
            failure = HTTPFetch.Failure(reason: "cannot write \(part.path): \(error.localizedDescription)", unreachable: false)
            return .cancel
        }
    }

    /// N from `bytes N-M/T`.
    private static func rangeStart(_ header: String) -> Int? {
        let trimmed = header.trimmingCharacters(in: .whitespaces)
        guard trimmed.lowercased().hasPrefix("bytes ") else { return nil }
        return Int(trimmed.dropFirst(6).prefix { $0 != "-" }.trimmingCharacters(in: .whitespaces))
    }

    /// Errors raised before any answer: the host is not there, or did not respond in time.
    private static func isUnreachable(_ error: Error) -> Bool {
        guard let error = error as? URLError else { return false }
        switch error.code {
        case .cannotFindHost, .cannotConnectToHost, .dnsLookupFailed, .notConnectedToInternet, .timedOut,
             .networkConnectionLost, .internationalRoamingOff, .dataNotAllowed, .secureConnectionFailed,
             .cannotLoadFromNetwork, .callIsActive:
            return true
        default:
            return false
        }
    }

    private static func describe(_ error: Error) -> String {
        guard let error = error as? URLError else { return "\(error)" }
        switch error.code {
        case .cannotFindHost, .dnsLookupFailed: return "host not found"
        case .cannotConnectToHost: return "could not connect to the server (connection refused)"
        case .timedOut: return "timed out"
        case .notConnectedToInternet: return "not connected to the internet"
        case .networkConnectionLost: return "the connection was lost"
        case .secureConnectionFailed: return "TLS connection failed"
        default: return error.localizedDescription
        }
    }
}
