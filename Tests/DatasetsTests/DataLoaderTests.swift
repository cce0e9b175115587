import Datasets
import TensorCore
import XCTest

final class DataLoaderTests: XCTestCase {
    /// `n` 1x2x2 images; image i holds the values 10i...10i+3 and has label i % 3.
    func sample(_ n: Int) throws -> LabeledImages {
        let values = (0..<n).flatMap { i in (0..<4).map { Float(10 * i + $0) } }
        return try LabeledImages(images: Tensor(shape: [n, 1, 2, 2], values: values), labels: (0..<n).map { $0 % 3 },
                                 classNames: ["a", "b", "c"])
    }

    func testBatchCounts() throws {
        let data = try sample(10)
        XCTAssertEqual(try DataLoader(data, batchSize: 3).count, 4)
        XCTAssertEqual(try DataLoader(data, batchSize: 3, dropLast: true).count, 3)
        XCTAssertEqual(try DataLoader(data, batchSize: 5, dropLast: true).count, 2)
        XCTAssertEqual(try DataLoader(data, batchSize: 10).count, 1)
        XCTAssertEqual(try DataLoader(data, batchSize: 11).count, 1)
        XCTAssertEqual(try DataLoader(data, batchSize: 11, dropLast: true).count, 0)
        XCTAssertEqual(Array(try DataLoader(data, batchSize: 11, dropLast: true).batches(epoch: 1)).count, 0)
    }

    func testBatchSizesWithAndWithoutDropLast() throws {
        let data = try sample(10)
        let kept = try DataLoader(data, batchSize: 3, shuffle: true, seed: 1).batches(epoch: 1).map { $0.labels.count }
        XCTAssertEqual(kept, [3, 3, 3, 1])
        let dropped = try DataLoader(data, batchSize: 3, shuffle: true, seed: 1, dropLast: true).batches(epoch: 1)
        XCTAssertEqual(dropped.map { $0.images.shape }, [[3, 1, 2, 2], [3, 1, 2, 2], [3, 1, 2, 2]])
        // The dropped image is the last one of this epoch's order.
        let seen = Set(dropped.flatMap(\.indices))
        XCTAssertEqual(seen.count, 9)
    }

    func testBatchContentsMatchTheirIndices() throws {
        let data = try sample(7)
        let loader = try DataLoader(data, batchSize: 4, shuffle: true, seed: 3)
        for batch in loader.batches(epoch: 2) {
            XCTAssertEqual(batch.labels, batch.indices.map { $0 % 3 })
            let expected = batch.indices.flatMap { i in (0..<4).map { Float(10 * i + $0) } }
            XCTAssertEqual(batch.images.values, expected)
        }
    }

    func testUnshuffledOrderIsSequentialEveryEpoch() throws {
        let loader = try DataLoader(sample(5), batchSize: 2)
        XCTAssertEqual(loader.order(epoch: 1), [0, 1, 2, 3, 4])
        XCTAssertEqual(loader.order(epoch: 9), [0, 1, 2, 3, 4])
        XCTAssertEqual(loader.batches(epoch: 3).map(\.indices), [[0, 1], [2, 3], [4]])
        XCTAssertEqual(loader.batches(epoch: 3)[2].images.values, [40, 41, 42, 43])
    }

    func testSameSeedSameOrder() throws {
        let data = try sample(50)
        let a = try DataLoader(data, batchSize: 8, shuffle: true, seed: 42)
        let b = try DataLoader(data, batchSize: 8, shuffle: true, seed: 42)
        for epoch in 0..<4 {
            XCTAssertEqual(a.order(epoch: epoch), b.order(epoch: epoch))
            XCTAssertEqual(a.batches(epoch: epoch).map(\.labels), b.batches(epoch: epoch).map(\.labels))
        }
        let c = try DataLoader(data, batchSize: 8, shuffle: true, seed: 43)
        XCTAssertNotEqual(a.order(epoch: 1), c.order(epoch: 1))
    }

    func testEachEpochReshufflesAndVisitsEveryIndexOnce() throws {
        let loader = try DataLoader(sample(50), batchSize: 7, shuffle: true, seed: 42)
        var orders: [[Int]] = []
        for epoch in 1...6 {
            let visited = loader.batches(epoch: epoch).flatMap(\.indices)
            XCTAssertEqual(visited.sorted(), Array(0..<50), "epoch \(epoch)")
            XCTAssertEqual(visited, loader.order(epoch: epoch))
            XCTAssertNotEqual(visited, Array(0..<50))
            orders.append(visited)
        }
        XCTAssertEqual(Set(orders).count, 6, "every epoch has its own order")
    }

    /// Pins the permutation so a change to the shuffle (which would change every training
    /// run's results) is noticed. Recorded from this implementation.
    func testShuffleIsPinned() throws {
        let loader = try DataLoader(sample(10), batchSize: 4, shuffle: true, seed: 42)
        XCTAssertEqual(loader.order(epoch: 1), pinnedOrderSeed42Epoch1)
    }

    /// Every permutation of 3 items should come up about equally often.
    func testShuffleIsUniform() throws {
        let loader = try DataLoader(sample(3), batchSize: 3, shuffle: true, seed: 7)
        var counts: [[Int]: Int] = [:]
        let trials = 6_000
        for epoch in 0..<trials { counts[loader.order(epoch: epoch), default: 0] += 1 }
        XCTAssertEqual(counts.count, 6)
        for (order, n) in counts {
            XCTAssertEqual(Double(n), Double(trials) / 6, accuracy: 150, "\(order) came up \(n) times")
        }
    }

    func testInvalidBatchSize() throws {
        XCTAssertEqual(assertDatasetError(try DataLoader(sample(3), batchSize: 0)),
                       .invalidArgument("batchSize must be at least 1, got 0"))
    }

    func testLoaderOnMNISTShapes() throws {
        let test = try MNISTTests.bundledTest.get()
        let loader = try DataLoader(test, batchSize: 64, shuffle: true, seed: 1)
        XCTAssertEqual(loader.count, 157)
        let first = loader.batches(epoch: 1)[0]
        XCTAssertEqual(first.images.shape, [64, 1, 28, 28])
        let i = first.indices[5]
        XCTAssertEqual(first.labels[5], test.labels[i])
        XCTAssertEqual(Array(UnsafeBufferPointer(start: first.images.pointer + 5 * 784, count: 784)),
                       Array(UnsafeBufferPointer(start: test.images.pointer + i * 784, count: 784)))
        XCTAssertEqual(loader.batches(epoch: 1).last?.labels.count, 10_000 - 156 * 64)
    }
}

let pinnedOrderSeed42Epoch1 = [9, 4, 5, 3, 1, 0, 2, 8, 6, 7]
