import Datasets
import Foundation
import FoveaTestSupport
@testable import Serving
import XCTest

/// The server's parts on their own: the header probe and the bounded work lanes.
final class ServerPartsTests: XCTestCase {
    func testInputCostReadsTheSizeFromPNGAndJPEGHeaders() throws {
        let image = try Image(width: 37, height: 21, channels: 3, pixels: (0..<(37 * 21 * 3)).map { Float($0 % 7) / 7 })
        XCTAssertEqual(InputCost(of: try PNG.encode(image)), .image(width: 37, height: 21))
        XCTAssertEqual(InputCost(of: try JPEG.encode(image)), .image(width: 37, height: 21))
        XCTAssertEqual(InputCost(of: pngDeclaring(width: 16384, height: 16384)), .image(width: 16384, height: 16384))
        XCTAssertEqual(InputCost(of: pngDeclaring(width: 16384, height: 16384)).pixels(over: 4096 * 4096), 16384 * 16384)
        XCTAssertNil(InputCost(of: try PNG.encode(image)).pixels(over: 4096 * 4096))
        // The largest sizes a header can hold: the product does not fit in an Int, and does not trap.
        XCTAssertEqual(InputCost.image(width: Int(UInt32.max), height: Int(UInt32.max)).pixels(over: 100), Int.max)
        // Not an image, or a truncated one: its bytes are its cost.
        XCTAssertEqual(InputCost(of: Array("{\"pixels\": [[0.5]]}".utf8)), .bytes(19))
        XCTAssertEqual(InputCost(of: Array(try JPEG.encode(image).prefix(10))), .bytes(10))
        XCTAssertEqual(InputCost(of: [0xFF, 0xD8, 0xFF, 0xC0, 0x00, 0x00, 0x00, 0x00]), .bytes(8), "a zero segment length")
        XCTAssertTrue(InputCost.image(width: 512, height: 512).isSmall)
        XCTAssertFalse(InputCost.image(width: 513, height: 10).isSmall)
        XCTAssertFalse(InputCost.bytes(65 << 10).isSmall)
    }

    func testAWorkLaneRunsAtMostItsWidthAtOnce() async throws {
        let lane = WorkLane(name: "test", width: 2)
        let counter = Counter()
        try await withThrowingTaskGroup(of: Int.self) { group in
            for i in 0..<8 {
                group.addTask {
                    try await lane.run {
                        counter.enter()
                        Thread.sleep(forTimeInterval: 0.02)
                        counter.leave()
                        return i
                    }
                }
            }
            var results: [Int] = []
            for try await r in group { results.append(r) }
            XCTAssertEqual(results.sorted(), Array(0..<8))
        }
        XCTAssertEqual(counter.most, 2)
    }

    func testAJobCancelledBeforeItStartsNeverRuns() async throws {
        let lane = WorkLane(name: "test", width: 1)
        let release = DispatchSemaphore(value: 0)
        let ran = Counter()
        let blocker = Task { try await lane.run { release.wait(); return 0 } }
        try await Task.sleep(nanoseconds: 50_000_000)
        let waiting = Task { try await lane.run { ran.enter(); return 1 } }
        try await Task.sleep(nanoseconds: 50_000_000)
        waiting.cancel()
        do {
            _ = try await waiting.value
            XCTFail("a cancelled waiting job returns")
        } catch is CancellationError {}
        release.signal()
        let first = try await blocker.value
        XCTAssertEqual(first, 0)
        let again = try await lane.run { 2 }
        XCTAssertEqual(again, 2, "the slot is free again")
        XCTAssertEqual(ran.most, 0, "the cancelled job never ran")
    }
}

/// Counts jobs inside a region and remembers the most at once.
private final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var now = 0
    private(set) var most = 0
    func enter() { lock.withLock { now += 1; most = max(most, now) } }
    func leave() { lock.withLock { now -= 1 } }
}
