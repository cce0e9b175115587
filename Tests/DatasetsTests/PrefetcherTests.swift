import Datasets
import Foundation
import TensorCore
import XCTest

/// Background batch building (`PrefetchedBatches`) and the balanced sampler.
final class PrefetcherTests: XCTestCase {
    /// `n` 1x4x4 images; image i is filled with i and has label `label(i)`.
    func sample(_ n: Int, classes: [String] = ["a", "b", "c"], label: (Int) -> Int = { $0 % 3 }) throws -> LabeledImages {
        let values = (0..<n).flatMap { i in [Float](repeating: Float(i), count: 16) }
        return try LabeledImages(images: Tensor(shape: [n, 1, 4, 4], values: values), labels: (0..<n).map(label), classNames: classes)
    }

    func assertSameBatches(_ a: [DataLoader.Batch], _ b: [DataLoader.Batch], file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(a.count, b.count, file: file, line: line)
        for (x, y) in zip(a, b) {
            XCTAssertEqual(x.indices, y.indices, file: file, line: line)
            XCTAssertEqual(x.labels, y.labels, file: file, line: line)
            XCTAssertEqual(x.images.shape, y.images.shape, file: file, line: line)
            XCTAssertEqual(x.images.values, y.images.values, file: file, line: line)
        }
    }

    func testPrefetchedBatchesEqualTheLoadersBatchesInOrder() throws {
        let loader = try DataLoader(try sample(103), batchSize: 8, shuffle: true, seed: 9)
        let plain = Array(loader.batches(epoch: 4))
        for (depth, workers) in [(1, 1), (2, 1), (3, 2), (8, 4), (50, 3)] {
            let batches = loader.prefetched(epoch: 4, depth: depth, workers: workers)
            assertSameBatches(Array(batches), plain)
            let stats = batches.statistics
            XCTAssertEqual(stats.taken, plain.count, "depth \(depth) workers \(workers)")
            XCTAssertEqual(stats.built, plain.count)
            XCTAssertLessThanOrEqual(stats.waits, stats.taken)
            XCTAssertGreaterThanOrEqual(stats.waitSeconds, 0)
        }
    }

    func testAugmentedPrefetchingRepeatsTheSynchronousBatches() throws {
        let augmentation = Augmentation([.horizontalFlip(p: 0.5), .affine(degrees: 15, translate: 0.1, scale: 0.9...1.1),
                                         .randomErasing(p: 1, area: 0.1...0.3, value: -1)])
        let loader = try DataLoader(try sample(40), batchSize: 6, shuffle: true, seed: 2).augmented(with: augmentation)
        assertSameBatches(Array(loader.prefetched(epoch: 1, depth: 3, workers: 2)), Array(loader.batches(epoch: 1)))
    }

    func testWorkersStayAtMostDepthAheadOfASlowConsumer() throws {
        let loader = try DataLoader(try sample(60), batchSize: 2)
        let batches = loader.prefetched(epoch: 1, depth: 3, workers: 2)
        var taken = 0
        for _ in batches {
            taken += 1
            if taken % 10 == 1 { Thread.sleep(forTimeInterval: 0.01) }   // give the workers time to run ahead
            let stats = batches.statistics
            XCTAssertLessThanOrEqual(stats.built, stats.taken + 3, "built \(stats.built) with \(stats.taken) taken")
        }
        XCTAssertEqual(taken, 30)
    }

    /// Leaving the loop early neither blocks nor lets the workers run past `depth`; that the
    /// worker threads then exit is not observable here.
    func testAbandonedLoopNeitherBlocksNorOverbuilds() throws {
        let loader = try DataLoader(try sample(200), batchSize: 1)
        let batches = loader.prefetched(epoch: 1, depth: 2, workers: 2)
        for batch in batches { XCTAssertEqual(batch.indices, [0]); break }
        Thread.sleep(forTimeInterval: 0.05)
        XCTAssertLessThanOrEqual(batches.statistics.built, 1 + 2)
        // A new epoch's prefetcher is independent of the abandoned one.
        XCTAssertEqual(Array(loader.prefetched(epoch: 2)).count, 200)
    }

    func testPrefetchingSettingIsValidated() throws {
        let loader = try DataLoader(try sample(4), batchSize: 2)
        XCTAssertEqual(loader.prefetchDepth, 0)
        let fetched = try loader.prefetching(depth: 3, workers: 2)
        XCTAssertEqual(fetched.prefetchDepth, 3)
        XCTAssertEqual(fetched.prefetchWorkers, 2)
        XCTAssertThrowsError(try loader.prefetching(depth: 0)) { XCTAssertTrue("\($0)".contains("depth 0"), "\($0)") }
        XCTAssertThrowsError(try loader.prefetching(depth: 1, workers: 0)) { XCTAssertTrue("\($0)".contains("workers 0"), "\($0)") }
    }

    func testEmptyEpochEndsAtOnce() throws {
        let loader = try DataLoader(try sample(3), batchSize: 5, dropLast: true)
        XCTAssertEqual(Array(loader.prefetched(epoch: 1, depth: 2, workers: 2)).count, 0)
    }

    // MARK: - Balanced sampler

    func testBalancedSamplerDrawsEveryClassEquallyOften() throws {
        // 90 images of class a, 9 of b, 1 of c.
        let data = try sample(100) { $0 < 90 ? 0 : ($0 < 99 ? 1 : 2) }
        let loader = try DataLoader(data, batchSize: 10, seed: 5).balancedSampling()
        var counts = [0, 0, 0]
        var distinct = Set<Int>()
        for epoch in 1...30 {
            let order = loader.order(epoch: epoch)
            XCTAssertEqual(order.count, 100)
            XCTAssertTrue(order.allSatisfy { (0..<100).contains($0) })
            for i in order { counts[data.labels[i]] += 1; distinct.insert(i) }
        }
        // 3,000 draws, 1,000 expected per class; the standard deviation is about 26.
        for (k, n) in counts.enumerated() { XCTAssertEqual(Double(n), 1000, accuracy: 150, "class \(k): \(counts)") }
        XCTAssertEqual(distinct.count, 100, "every image is drawn at some point")
        XCTAssertEqual(loader.order(epoch: 3), loader.order(epoch: 3), "seeded")
        XCTAssertNotEqual(loader.order(epoch: 3), loader.order(epoch: 4))
        // Batches follow the drawn order.
        let first = loader.batches(epoch: 3)[0]
        XCTAssertEqual(first.indices, Array(loader.order(epoch: 3)[0..<10]))
        XCTAssertEqual(first.images.values[16 * 3], Float(first.indices[3]))
    }

    func testBalancedSamplerSkipsAbsentClasses() throws {
        let data = try sample(12, classes: ["a", "b", "c", "d"]) { $0 % 2 == 0 ? 0 : 3 }
        let order = try DataLoader(data, batchSize: 4, seed: 1).balancedSampling().order(epoch: 1)
        XCTAssertEqual(order.count, 12)
        XCTAssertTrue(order.allSatisfy { data.labels[$0] == 0 || data.labels[$0] == 3 })
    }
}
