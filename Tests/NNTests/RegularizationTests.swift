import FoveaTestSupport
import NN
import TensorCore
import XCTest

/// The L1 (`λ Σ|w|`) and L2 (`λ/2 Σ w²`) penalties over several parameters: values, gradients
/// (`λ sign(w)` and `λ w`, the latter SGD's weight decay), finite differences, and errors.
final class RegularizationTests: XCTestCase {
    func testPenaltiesOverSeveralParameters() throws {
        let a = try Tensor(shape: [2, 2], values: [1, -2, 3, -4]), b = Tensor([0.5, -1.5])
        XCTAssertEqual(try Regularization.l1([a, b], lambda: 0.1).item, 0.1 * 12, accuracy: 1e-6)
        XCTAssertEqual(try Regularization.l2([a, b], lambda: 0.1).item, 0.05 * (30 + 2.5), accuracy: 1e-6)
        XCTAssertEqual(try Regularization.l2([a, b], lambda: 0).item, 0)
        XCTAssertEqual(try Regularization.l1([], lambda: 1).item, 0, "no parameters, no penalty")

        a.requiresGrad = true; b.requiresGrad = true
        let l1 = try Regularization.l1([a, b], lambda: 0.1)
        try l1.backward()
        assertClose(a.grad!.values, [0.1, -0.1, 0.1, -0.1])
        assertClose(b.grad!.values, [0.1, -0.1])
        a.grad = nil; b.grad = nil
        // Added to a loss, L2's gradient λ w is what SGD's weightDecay: λ adds to each gradient.
        let target = try Tensor(shape: [2, 2], values: [0, 0, 0, 0])
        let total = try Tensor.mseLoss(a, target, reduction: .halfSum) + Regularization.l2([a], lambda: 0.01)
        try total.backward()
        assertClose(a.grad!.values, a.values.map { $0 + 0.01 * $0 }, rtol: 1e-6)
    }

    func testFiniteDifferences() throws {
        let a = randomTensor([3, 4], seed: 51), b = randomTensor([5], seed: 52)
        try checkGradients([a, b]) { try Regularization.l2([a, b], lambda: 0.3) }
        try checkGradients([a, b], eps: 1e-3) { try Regularization.l1([a, b], lambda: 0.3) }
    }

    func testBadStrengthIsRefused() {
        for bad: Float in [-0.5, .nan, .infinity] {
            XCTAssertThrowsError(try Regularization.l2([Tensor([1])], lambda: bad)) { XCTAssertTrue("\($0)".contains("\(bad)"), "\($0)") }
        }
    }
}
