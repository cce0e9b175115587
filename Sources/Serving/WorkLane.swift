import Dispatch
import Foundation
import TensorCore

/// A bounded place to run blocking work (image decoding, JSON parsing, model calls) off
/// Swift's cooperative threads, so that a slow request never stalls the event loops or the
/// tasks that answer other requests and enforce their timeouts.
///
/// At most `width` jobs run at once, each on a Dispatch thread; the others wait in FIFO
/// order. A job whose caller gave up waiting (its request timed out) is dropped before it
/// starts; one already running finishes and holds its slot until then, so the lane bounds
/// the work actually done, not only the work asked for.
final class WorkLane: @unchecked Sendable {
    let width: Int
    /// The kernels' thread count for the jobs, read when the lane is made: a job runs on a
    /// Dispatch thread, outside the task that submits it.
    let threads: Int
    private let lock = NSLock()
    private var running = 0
    /// Waiting jobs: each call tries to start one and says whether it did (false: cancelled).
    private var waiting: [() -> Bool] = []
    private let queue: DispatchQueue

    init(name: String, width: Int) {
        self.width = max(1, width)
        threads = Parallel.threadCount
        queue = DispatchQueue(label: "fovea.serving.\(name)", attributes: .concurrent)
    }

    /// Runs `body` on the lane and returns its result. Cancelling the calling task before
    /// the job starts drops it and throws `CancellationError`; once it runs, the call waits
    /// for it.
    func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        let job = Job<T>()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, Error>) in
                guard job.attach(continuation) else { return }
                submit { [queue, threads] in
                    guard job.begin() else { return false }
                    queue.async {
                        let result = Result { try Parallel.withThreads(threads, body) }
                        self.finished()
                        job.finish(result)
                    }
                    return true
                }
            }
        } onCancel: {
            job.cancel()
        }
    }

    private func submit(_ start: @escaping () -> Bool) {
        lock.lock()
        guard running < width else { waiting.append(start); lock.unlock(); return }
        running += 1
        lock.unlock()
        if !start() { finished() }
    }

    /// Hands a finished job's slot to the next waiting job that still wants it.
    private func finished() {
        while true {
            lock.lock()
            guard !waiting.isEmpty else { running -= 1; lock.unlock(); return }
            let next = waiting.removeFirst()
            lock.unlock()
            if next() { return }
        }
    }
}

/// One job's state: waiting, running or cancelled, and the continuation of its caller.
private final class Job<T: Sendable>: @unchecked Sendable {
    private enum Phase { case waiting, running, cancelled }
    private let lock = NSLock()
    private var phase = Phase.waiting
    private var continuation: CheckedContinuation<T, Error>?

    /// Keeps the caller's continuation; false (after resuming it with `CancellationError`)
    /// when the caller was cancelled before it got here.
    func attach(_ continuation: CheckedContinuation<T, Error>) -> Bool {
        let cancelled = lock.withLock { () -> Bool in
            if phase == .cancelled { return true }
            self.continuation = continuation
            return false
        }
        if cancelled { continuation.resume(throwing: CancellationError()) }
        return !cancelled
    }

    /// Moves a waiting job to running; false when it was cancelled first.
    func begin() -> Bool {
        lock.withLock {
            guard phase == .waiting else { return false }
            phase = .running
            return true
        }
    }

    func finish(_ result: Result<T, Error>) {
        let c = lock.withLock { () -> CheckedContinuation<T, Error>? in
            defer { continuation = nil }
            return continuation
        }
        c?.resume(with: result)
    }

    /// Cancels a job that has not started and resumes its caller with `CancellationError`.
    func cancel() {
        let c = lock.withLock { () -> CheckedContinuation<T, Error>? in
            guard phase == .waiting else { return nil }
            phase = .cancelled
            defer { continuation = nil }
            return continuation
        }
        c?.resume(throwing: CancellationError())
    }
}
