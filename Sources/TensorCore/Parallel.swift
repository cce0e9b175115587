import CFoveaKernels
import Dispatch

/// How many threads the kernels split work over. Work is cut into a fixed number of
/// chunks by index, never by which thread is free, so results are the same on every run
/// with the same thread count.
public enum Parallel {
    /// The thread count bound by `withThreads` in this task (or on this thread outside
    /// tasks); nil where none is bound.
    @TaskLocal private static var boundThreads: Int?

    /// The machine's core count, the thread count where none is bound.
    public static let defaultThreadCount = max(1, System.coreCount)

    /// Number of worker threads the kernels use: the innermost `withThreads` around the
    /// caller, else `defaultThreadCount`. Read it on the calling thread (the ops do, once,
    /// before they split their work): the pool's worker threads run outside the caller's
    /// task and see the default.
    public static var threadCount: Int { boundThreads ?? defaultThreadCount }

    /// Runs `body` with `threadCount` equal to `threads` (at least 1) for every op inside it,
    /// in this task and the child tasks it starts (the CLI's `--threads`).
    public static func withThreads<T>(_ threads: Int, _ body: () throws -> T) rethrows -> T {
        try $boundThreads.withValue(max(1, threads), operation: body)
    }

    /// Runs `body(chunk)` for chunk in 0..<chunks, concurrently when `chunks > 1`, on at
    /// most `threadCount` threads: the caller and the kernels' thread pool
    /// (`fovea_pool_run`, whose workers spin briefly between regions, so the many short
    /// regions of a small model's step do not each wait for a thread to wake). A region
    /// started while the pool is busy (nested, or from a second thread) runs on Dispatch.
    public static func forEachChunk(_ chunks: Int, _ body: (Int) -> Void) {
        if chunks <= 1 { if chunks == 1 { body(0) }; return }
        let threads = threadCount
        // The chunks write disjoint memory through raw pointers; neither the C pool nor
        // Dispatch's @Sendable requirement can see that, so the closure travels unchecked.
        withoutActuallyEscaping(body) { escapable in
            var task = escapable
            let ran = withUnsafeMutablePointer(to: &task) { taskPointer in
                fovea_pool_run(chunks, Int32(clamping: threads), { context, index in
                    context!.assumingMemoryBound(to: ((Int) -> Void).self).pointee(index)
                }, taskPointer)
            }
            if ran == 0 {
                let box = UncheckedSendable(escapable)
                DispatchQueue.concurrentPerform(iterations: chunks) { box.value($0) }
            }
        }
    }

    /// Splits 0..<count into at most `threadCount` contiguous ranges of at least `minPerChunk`
    /// items and runs `body` on each concurrently. Range boundaries depend only on `count`,
    /// `minPerChunk` and `threadCount`.
    public static func forRanges(_ count: Int, minPerChunk: Int = 1, _ body: (Range<Int>) -> Void) {
        guard count > 0 else { return }
        let chunks = max(1, min(threadCount, count / max(1, minPerChunk)))
        forEachChunk(chunks) { c in
            let lo = count * c / chunks, hi = count * (c + 1) / chunks
            if lo < hi { body(lo..<hi) }
        }
    }
}

/// Facts about the machine.
public enum System {
    /// Bytes of physical memory (0 where unknown).
    public static var physicalMemoryBytes: Int {
        #if canImport(Glibc)
        return Swift.max(0, Int(sysconf(Int32(_SC_PHYS_PAGES)))) * Swift.max(0, Int(sysconf(Int32(_SC_PAGESIZE))))
        #else
        return 0
        #endif
    }

    /// Number of online processors.
    public static var coreCount: Int {
        #if canImport(Glibc)
        return Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))
        #else
        return 1
        #endif
    }
}

#if canImport(Glibc)
import Glibc
#endif

/// Carries a value across a concurrency boundary the compiler cannot check: pointers
/// into memory whose parallel chunks write disjoint elements, say.
public struct UncheckedSendable<T>: @unchecked Sendable {
    public let value: T
    public init(_ value: T) { self.value = value }
}
