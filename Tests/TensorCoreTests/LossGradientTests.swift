#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import FoveaTestSupport
import TensorCore
import XCTest

/// The losses' hand-written gradients against central finite differences (every loss, every
/// reduction, with and without smoothing, class weights and positive weights, for inputs and
/// differentiable targets), small hand-computed cases, and the errors for bad arguments.
final class LossGradientTests: XCTestCase {
    let classWeight = Tensor([0.5, 2, 1, 1.5])

    func testRegressionLosses() throws {
        let p = randomTensor([3, 4], seed: 31), t = randomTensor([3, 4], seed: 32)
        for r in LossReduction.allCases {
            try checkGradients([p, t]) { try Tensor.mseLoss(p, t, reduction: r) }
            try checkGradients([p, t], eps: 1e-3) { try Tensor.l1Loss(p, t, reduction: r) }
        }
        let image = randomTensor([2, 3, 2, 2], seed: 33), imageTarget = randomTensor([2, 3, 2, 2], seed: 34)
        try checkGradients([image]) { try Tensor.mseLoss(image, imageTarget) }
    }

    func testCrossEntropyWithClassIndices() throws {
        let logits = randomTensor([5, 4], seed: 35, low: -2, high: 2), idx = [0, 3, 1, 1, 2]
        for r in LossReduction.allCases {
            for smoothing: Float in [0, 0.2, 1] {
                try checkGradients([logits]) { try Tensor.crossEntropy(logits: logits, targets: idx, labelSmoothing: smoothing, reduction: r) }
                try checkGradients([logits]) {
                    try Tensor.crossEntropy(logits: logits, targets: idx, labelSmoothing: smoothing, weight: self.classWeight, reduction: r)
                }
            }
        }
    }

    func testCrossEntropyWithProbabilities() throws {
        let logits = randomTensor([3, 4], seed: 36, low: -2, high: 2)
        let soft = try Tensor(shape: [3, 4], values: [0.1, 0.2, 0.3, 0.4, 1, 0, 0, 0, 0.25, 0.25, 0.25, 0.25])
        for r in LossReduction.allCases {
            for smoothing: Float in [0, 0.1] {
                try checkGradients([logits, soft]) {
                    try Tensor.crossEntropy(logits: logits, probabilities: soft, labelSmoothing: smoothing, reduction: r)
                }
                try checkGradients([logits, soft]) {
                    try Tensor.crossEntropy(logits: logits, probabilities: soft, labelSmoothing: smoothing, weight: self.classWeight, reduction: r)
                }
            }
        }
    }

    func testNLL() throws {
        let logp = try randomTensor([5, 4], seed: 37, low: -2, high: 2).logSoftmax(axis: 1).detached()
        for r in LossReduction.allCases {
            try checkGradients([logp]) { try Tensor.nllLoss(logProbabilities: logp, targets: [2, 2, 0, 3, 1], reduction: r) }
            try checkGradients([logp]) {
                try Tensor.nllLoss(logProbabilities: logp, targets: [2, 2, 0, 3, 1], weight: self.classWeight, reduction: r)
            }
        }
    }

    func testBinaryCrossEntropy() throws {
        let p = randomTensor([2, 3], seed: 38, low: 0.1, high: 0.9), t = randomTensor([2, 3], seed: 39, low: 0, high: 1)
        let logits = randomTensor([3, 4], seed: 40, low: -3, high: 3), bits = randomTensor([3, 4], seed: 41, low: 0, high: 1)
        let posWeight = Tensor([1, 3, 0.5, 2])
        for r in LossReduction.allCases {
            try checkGradients([p, t], eps: 1e-3) { try Tensor.binaryCrossEntropy(p, t, reduction: r) }
            try checkGradients([logits, bits]) { try Tensor.binaryCrossEntropyWithLogits(logits, bits, reduction: r) }
            try checkGradients([logits, bits]) { try Tensor.binaryCrossEntropyWithLogits(logits, bits, posWeight: posWeight, reduction: r) }
        }
    }

    /// Seed 003: with `E = 1/2 Σ (ŷ - y)²` the gradient is `ŷ - y`; the mean and sum scale it.
    func testSquaredErrorByHand() throws {
        let prediction = Tensor([1, 2, 3], requiresGrad: true), target = Tensor([0, 2, 5])
        let half = try Tensor.mseLoss(prediction, target, reduction: .halfSum)
        XCTAssertEqual(half.item, 2.5)
        try half.backward()
        XCTAssertEqual(prediction.grad?.values, [1, 0, -2])
        XCTAssertEqual(try Tensor.mseLoss(prediction, target).item, 5.0 / 3, accuracy: 1e-6)
        XCTAssertEqual(try Tensor.mseLoss(prediction, target, reduction: .sum).item, 5)
        prediction.grad = nil
        let mae = try Tensor.l1Loss(prediction, target)
        XCTAssertEqual(mae.item, 1)
        try mae.backward()
        assertClose(prediction.grad!.values, [1.0 / 3, 0, -1.0 / 3])
    }

    func testClassificationByHand() throws {
        // Equal logits: every class has probability 1/C, so the loss is ln C whatever the target
        // or the smoothing, and the gradient is (1/C - t) / N.
        let logits = Tensor(zeros: [2, 4], requiresGrad: true)
        let ce = try Tensor.crossEntropy(logits: logits, targets: [1, 3], labelSmoothing: 0.4)
        XCTAssertEqual(ce.item, logf(4), accuracy: 1e-6)
        try ce.backward()
        let off: Float = 0.4 / 4, on: Float = 0.6 + 0.4 / 4
        assertClose(logits.grad!.values, [0.25 - off, 0.25 - on, 0.25 - off, 0.25 - off,
                                          0.25 - off, 0.25 - off, 0.25 - off, 0.25 - on].map { $0 / 2 })
        // Weighted mean: Σ w_y ℓ / Σ w_y.
        let logp = try Tensor(shape: [2, 2], values: [logf(0.5), logf(0.5), logf(0.25), logf(0.75)])
        let nll = try Tensor.nllLoss(logProbabilities: logp, targets: [0, 1], weight: Tensor([1, 3]))
        XCTAssertEqual(nll.item, (-logf(0.5) - 3 * logf(0.75)) / 4, accuracy: 1e-6)
        // The clamped logs and the stable form keep extreme inputs finite.
        XCTAssertEqual(try Tensor.binaryCrossEntropy(Tensor([0, 1]), Tensor([1, 0]), reduction: .sum).item, 200)
        XCTAssertEqual(try Tensor.binaryCrossEntropyWithLogits(Tensor([100, -100]), Tensor([0, 1])).item, 100)
        XCTAssertEqual(try Tensor.binaryCrossEntropyWithLogits(Tensor([100, -100]), Tensor([1, 0])).item, 0, accuracy: 1e-30)
    }

    /// The error thrown by `body`, as text, for checking that it quotes the bad values.
    func message(_ body: () throws -> Tensor, file: StaticString = #filePath, line: UInt = #line) -> String {
        do {
            _ = try body()
            XCTFail("no error thrown", file: file, line: line)
            return ""
        } catch {
            XCTAssertTrue(error is TensorError, "\(error)", file: file, line: line)
            return "\(error)"
        }
    }

    func testErrorsQuoteTheBadValues() {
        let logits = Tensor(zeros: [2, 4])
        XCTAssertTrue(message { try Tensor.crossEntropy(logits: logits, targets: [0, 4]) }.contains("target 4 at position 1 is outside 0..<4"))
        XCTAssertTrue(message { try Tensor.crossEntropy(logits: logits, targets: [-1, 0]) }.contains("target -1"))
        XCTAssertTrue(message { try Tensor.crossEntropy(logits: logits, targets: [0, 1, 2]) }.contains("3 targets for 2 rows of logits [2, 4]"))
        XCTAssertTrue(message { try Tensor.crossEntropy(logits: Tensor(zeros: [8]), targets: [0]) }.contains("[8]"))
        for bad: Float in [1.5, -0.1] {
            XCTAssertTrue(message { try Tensor.crossEntropy(logits: logits, targets: [0, 1], labelSmoothing: bad) }.contains("got \(bad)"))
            XCTAssertTrue(message { try Tensor.crossEntropy(logits: logits, probabilities: logits, labelSmoothing: bad) }.contains("got \(bad)"))
        }
        XCTAssertTrue(message { try Tensor.crossEntropy(logits: logits, targets: [0, 1], labelSmoothing: .nan) }.contains("nan"))
        XCTAssertTrue(message { try Tensor.crossEntropy(logits: logits, probabilities: Tensor(zeros: [2, 3])) }.contains("logits [2, 4] vs target probabilities [2, 3]"))
        XCTAssertTrue(message { try Tensor.crossEntropy(logits: logits, targets: [0, 1], weight: Tensor([1, 2])) }.contains("class weights must be [4] for 4 classes, got [2]"))
        XCTAssertTrue(message { try Tensor.crossEntropy(logits: logits, targets: [0, 0], weight: Tensor([0, 1, 1, 1])) }.contains("sum to zero"))
        XCTAssertTrue(message { try Tensor.crossEntropy(logits: Tensor(zeros: [0, 4]), targets: []) }.contains("empty batch"))
        XCTAssertTrue(message { try Tensor.nllLoss(logProbabilities: logits, targets: [0, 7]) }.contains("target 7"))
        XCTAssertTrue(message { try Tensor.nllLoss(logProbabilities: logits, targets: [0]) }.contains("1 targets for 2 rows"))
        XCTAssertTrue(message { try Tensor.mseLoss(Tensor(zeros: [2, 3]), Tensor(zeros: [3, 2])) }.contains("prediction [2, 3] vs target [3, 2]"))
        XCTAssertTrue(message { try Tensor.l1Loss(Tensor(zeros: [2]), Tensor(zeros: [3])) }.contains("[2] vs target [3]"))
        XCTAssertTrue(message { try Tensor.binaryCrossEntropy(Tensor([0.5, 1.5]), Tensor([0, 1])) }.contains("got 1.5 at flat index 1"))
        XCTAssertTrue(message { try Tensor.binaryCrossEntropy(Tensor([0.5]), Tensor([0, 1])) }.contains("probabilities [1] vs target [2]"))
        XCTAssertTrue(message { try Tensor.binaryCrossEntropyWithLogits(logits, logits, posWeight: Tensor([1, 2])) }.contains("posWeight must be [4]"))
    }
}
