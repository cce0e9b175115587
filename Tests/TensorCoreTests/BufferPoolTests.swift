import XCTest
import TensorCore

/// The buffer pool under `TensorStorage`: same-size buffers come back (small ones too),
/// zeroing is still done when asked for, the limits hold, and a repeated training-like step stops
/// allocating after its first round.
final class BufferPoolTests: XCTestCase {
    func testFreedBuffersAreReusedAndZeroedWhenAskedFor() {
        let count = 10_000
        var first: TensorStorage? = TensorStorage(count: count, zeroed: false)
        let address = first!.pointer
        for i in 0..<count { first!.pointer[i] = 7 }
        first = nil
        let second = TensorStorage(count: count)
        XCTAssertEqual(second.pointer, address, "a buffer of the same size is handed back")
        XCTAssertTrue(second.buffer.allSatisfy { $0 == 0 }, "zeroed storage is zero even when reused")
    }

    func testLimitsAndDrain() {
        let pool = BufferPool(capacityBytes: 3 * 40_000, maxBuffersPerSize: 2)
        // Buffers of 40,000 bytes: the per-size limit (2) binds before the byte limit (3).
        let ps = (0..<4).map { _ in pool.take(floats: 10_000) }
        for p in ps { pool.give(p, floats: 10_000) }
        XCTAssertEqual(pool.statistics.heldBytes, 2 * 40_000)
        let big = pool.take(floats: 20_000)
        pool.give(big, floats: 20_000)
        XCTAssertEqual(pool.statistics.heldBytes, 80_000 + 40_000, "the 80,000-byte buffer evicted one 40,000-byte buffer")
        let again2 = pool.take(floats: 20_000)
        XCTAssertEqual(again2, big)
        pool.give(again2, floats: 20_000)
        let huge = pool.take(floats: 40_000)
        pool.give(huge, floats: 40_000)
        XCTAssertLessThanOrEqual(pool.statistics.heldBytes, 3 * 40_000, "a buffer over the capacity is never kept")
        let again = pool.take(floats: 10_000)
        XCTAssertTrue(ps.contains(again))
        XCTAssertEqual(pool.statistics.reused, 2)
        pool.give(again, floats: 10_000)
        pool.drain()
        XCTAssertEqual(pool.statistics.heldBytes, 0)
        // Buffers under minimumBytes are kept by size, outside the byte budget, at most
        // smallBuffersPerSize of a size, 64-byte aligned like the rest.
        let smalls = (0..<(BufferPool.smallBuffersPerSize + 3)).map { _ in pool.take(floats: 100) }
        XCTAssertTrue(smalls.allSatisfy { Int(bitPattern: $0) % 64 == 0 })
        for p in smalls { pool.give(p, floats: 100) }
        XCTAssertEqual(pool.smallBuffersHeld, BufferPool.smallBuffersPerSize)
        XCTAssertEqual(pool.statistics.heldBytes, 0)
        let reusedSmall = pool.take(floats: 100)
        XCTAssertTrue(smalls.contains(reusedSmall), "a small buffer of the same size is handed back")
        XCTAssertEqual(pool.smallBuffersHeld, BufferPool.smallBuffersPerSize - 1)
        pool.give(reusedSmall, floats: 100)
        pool.drain()
        XCTAssertEqual(pool.smallBuffersHeld, 0)
    }

    func testARepeatedStepStopsAllocating() throws {
        var gen = SeededGenerator(seed: 99)
        let x = Tensor.uniform([8, 3, 20, 20], low: -1, high: 1, generator: &gen)
        let w = Tensor.uniform([6, 3, 5, 5], low: -1, high: 1, generator: &gen, requiresGrad: true)
        func step() throws {
            w.grad = nil
            try Tensor.conv2d(x, weight: w, padding: .uniform(2)).relu().sum().backward()
        }
        // Start from an empty pool, so buffers earlier tests left cannot crowd these out.
        BufferPool.shared.drain()
        try step()
        try step()
        let before = BufferPool.shared.statistics.allocated
        for _ in 0..<5 { try step() }
        XCTAssertEqual(BufferPool.shared.statistics.allocated, before, "steps after warm-up take every buffer from the pool")
    }

    /// Large buffers are kept as spans of pages: a request of another size is made of the
    /// pages of held buffers (moved, not copied, on Linux) instead of new memory, so a step
    /// that needs its large buffers in other sizes than the last one gave back asks the
    /// system for nothing, and what the pool holds adds nothing to the peak.
    func testLargeBuffersOfOtherSizesAreMadeOfHeldPages() throws {
        let pool = BufferPool(capacityBytes: 1 << 30)
        let quarter = 1 << 20, unit = 4 << 20   // floats of 4 MiB and of 16 MiB
        // A "late stage": four 4 MiB buffers, each filled with its own value.
        let small = (0..<4).map { _ in pool.take(floats: quarter) }
        for (i, p) in small.enumerated() { p.update(repeating: Float(i + 1), count: quarter) }
        for p in small { pool.give(p, floats: quarter) }
        XCTAssertEqual(pool.statistics.heldBytes, 16 << 20)
        let allocated = pool.statistics.allocated
        // An "early stage" asks for one 16 MiB buffer: it is made of the four.
        let big = pool.take(floats: unit)
        XCTAssertEqual(pool.statistics.heldBytes, 0, "every held page went into the new buffer")
        XCTAssertEqual(pool.liveBytes.now, 16 << 20)
        XCTAssertLessThanOrEqual(pool.peakFootprintBytes, 16 << 20, "the pool never held pages while asking for new ones")
        #if os(Linux)
        XCTAssertEqual(pool.statistics.allocated, allocated, "no new memory was needed")
        // The pages were moved, not replaced: each quarter still holds one of the old values.
        let quarters = (0..<4).map { big[$0 * quarter] }
        XCTAssertEqual(Set(quarters), [1, 2, 3, 4])
        for q in 0..<4 { XCTAssertTrue(UnsafeBufferPointer(start: big + q * quarter, count: quarter).allSatisfy { $0 == quarters[q] }) }
        #endif
        // Written as a whole, it behaves as one buffer.
        big.update(repeating: 9, count: unit)
        XCTAssertTrue(UnsafeBufferPointer(start: big, count: unit).allSatisfy { $0 == 9 })
        pool.give(big, floats: unit)
        // A smaller request splits the held span: its first pages go, the rest stays held.
        let part = pool.take(floats: quarter)
        XCTAssertEqual(pool.statistics.heldBytes, 12 << 20)
        XCTAssertEqual(Int(bitPattern: part) % 4096, 0, "large buffers start on a page")
        part.update(repeating: 3, count: quarter)
        pool.give(part, floats: quarter)
        // A size that is not a whole number of pages is rounded up to one.
        let odd = pool.take(floats: quarter + 5)
        XCTAssertEqual(pool.liveBytes.now, (4 << 20) + 4096)
        pool.give(odd, floats: quarter + 5)
        pool.drain()
        XCTAssertEqual(pool.statistics.heldBytes, 0)
        XCTAssertEqual(pool.liveBytes.now, 0)
    }
}
