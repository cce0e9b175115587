import FoveaTestSupport
import TensorCore
import XCTest

/// Finite-difference checks of the ops the model zoo added.
final class ZooOpGradientTests: XCTestCase {
    func testLocalResponseNorm() throws {
        var gen = SeededGenerator(seed: 21)
        let x = Tensor.normal([2, 6, 3, 3], std: 2, generator: &gen)
        try checkGradients([x]) { try x.localResponseNorm(size: 3, alpha: 0.5, beta: 0.75, k: 1) }
        try checkGradients([x]) { try x.localResponseNorm(size: 4, alpha: 0.2, beta: 0.6, k: 2) }
        XCTAssertThrowsError(try Tensor(zeros: [3, 4]).localResponseNorm(size: 3)) { error in
            XCTAssertTrue("\(error)".contains("[N, C, ...]"), "\(error)")
        }
    }

    /// Worked example: with size 1, alpha 1, beta 1, k 1 each value becomes a / (1 + a²).
    func testLocalResponseNormByHand() throws {
        let x = try Tensor(shape: [1, 4, 1, 1], values: [1, 2, 3, 0.5])
        let y = try x.localResponseNorm(size: 1, alpha: 1, beta: 1, k: 1)
        assertClose(y.values, [0.5, 0.4, 0.3, 0.4])
        // size 3: channel 0 sees channels 0-1, channel 1 sees 0-2; alpha/size = 1/3.
        let z = try x.localResponseNorm(size: 3, alpha: 3, beta: 1, k: 1)
        assertClose(z.values, [1 / (1 + 1 + 4), 2 / (1 + 1 + 4 + 9), 3 / (1 + 4 + 9 + 0.25), 0.5 / (1 + 9 + 0.25)], rtol: 1e-6)
    }

    func testHardTanhAndReLU6AwayFromTheCorners() throws {
        // Values chosen at least 0.1 from the corners -1, 1, 0 and 6 so ±eps never crosses one.
        let x = try Tensor(shape: [2, 5], values: [-3, -1.5, -0.5, 0.3, 0.8, 1.4, 2.5, 5.5, 6.7, 9])
        try checkGradients([x]) { x.hardTanh() }
        try checkGradients([x]) { x.relu6() }
        assertClose(x.relu6().values, [0, 0, 0, 0.3, 0.8, 1.4, 2.5, 5.5, 6, 6])
    }

    func testChannelShuffle() throws {
        let x = try Tensor(shape: [1, 6, 1, 2], values: (0..<12).map(Float.init))
        // Groups [0 1 2 | 3 4 5] interleave to 0 3 1 4 2 5.
        XCTAssertEqual(try x.channelShuffled(groups: 2).values, [0, 1, 6, 7, 2, 3, 8, 9, 4, 5, 10, 11])
        var gen = SeededGenerator(seed: 3)
        let y = Tensor.normal([2, 6, 2, 2], generator: &gen)
        try checkGradients([y]) { try y.channelShuffled(groups: 3) }
        XCTAssertThrowsError(try y.channelShuffled(groups: 4))
    }
}
