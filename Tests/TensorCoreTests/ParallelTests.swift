import Dispatch
import Synchronization
import XCTest
@testable import TensorCore

/// The thread pool under `Parallel.forEachChunk`: every chunk runs exactly once, whether the
/// pool runs the region (flagged chunks up to 64, a shared cursor beyond), a nested region
/// falls back to Dispatch, or several threads start regions at once.
final class ParallelTests: XCTestCase {
    private func withThreads<T>(_ n: Int, _ body: () throws -> T) rethrows -> T {
        try Parallel.withThreads(n, body)
    }

    /// Runs one region of `chunks` and returns how many times each chunk ran.
    private func runCounts(_ chunks: Int) -> [Int] {
        let counts = UnsafeMutablePointer<Int>.allocate(capacity: chunks)
        counts.initialize(repeating: 0, count: chunks)
        defer { counts.deallocate() }
        let c = UncheckedSendable(counts)
        // Each chunk writes only its own slot, as the kernels do.
        Parallel.forEachChunk(chunks) { i in c.value[i] += 1 }
        return Array(UnsafeBufferPointer(start: counts, count: chunks))
    }

    func testEveryChunkRunsOnceForFlaggedAndCursorRegions() {
        for threads in [2, 3, 8] {
            withThreads(threads) {
                for chunks in [2, 3, 7, 64, 65, 200, 1000] {
                    XCTAssertEqual(runCounts(chunks), [Int](repeating: 1, count: chunks), "\(chunks) chunks on \(threads) threads")
                }
            }
        }
    }

    func testManyBackToBackRegionsAllComplete() {
        withThreads(2) {
            let total = Atomic<Int>(0)
            for _ in 0..<20_000 {
                Parallel.forEachChunk(2) { i in total.add(i + 1, ordering: .relaxed) }
            }
            XCTAssertEqual(total.load(ordering: .relaxed), 20_000 * 3)
        }
    }

    func testNestedRegionsRunEveryInnerChunk() {
        withThreads(2) {
            let inner = Atomic<Int>(0)
            Parallel.forEachChunk(4) { _ in
                // The pool is busy with the outer region: this one goes to Dispatch.
                Parallel.forEachChunk(5) { j in inner.add(j, ordering: .relaxed) }
            }
            XCTAssertEqual(inner.load(ordering: .relaxed), 4 * (0 + 1 + 2 + 3 + 4))
        }
    }

    func testRegionsFromSeveralThreadsAtOnce() {
        withThreads(2) {
            let sums = UnsafeMutablePointer<Int>.allocate(capacity: 8)
            sums.initialize(repeating: 0, count: 8)
            defer { sums.deallocate() }
            let s = UncheckedSendable(sums)
            DispatchQueue.concurrentPerform(iterations: 8) { caller in
                for _ in 0..<200 {
                    let part = Atomic<Int>(0)
                    Parallel.forEachChunk(3) { i in part.add(i + 1, ordering: .relaxed) }
                    s.value[caller] += part.load(ordering: .relaxed)
                }
            }
            XCTAssertEqual(Array(UnsafeBufferPointer(start: sums, count: 8)), [Int](repeating: 200 * 6, count: 8))
        }
    }

    func testChunkResultsDoNotDependOnTheThreadCount() throws {
        // A convolution split over 1, 2 and 4 threads gives the same bits.
        var gen = SeededGenerator(seed: 3)
        let x = Tensor.normal([6, 8, 12, 12], generator: &gen)
        let w = Tensor.normal([16, 8, 3, 3], generator: &gen)
        let outputs = try [1, 2, 4].map { t in
            try withThreads(t) { try Tensor.conv2d(x, weight: w, padding: .uniform(1)).values }
        }
        XCTAssertEqual(outputs[0], outputs[1])
        XCTAssertEqual(outputs[0], outputs[2])
    }
}
