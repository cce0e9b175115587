import Foundation
import FoveaTestSupport
import TensorCore
import XCTest

/// Every loss and reduction against PyTorch 2.15 on values recorded by
/// `Golden/make_loss_golden.py` (in `Golden/loss_golden.json`): the loss value and the
/// gradients of `probe * loss` with respect to the input and, where PyTorch gives one, the
/// target. Torch is needed only to regenerate the file.
final class LossGoldenTests: XCTestCase {
    struct Golden: Decodable {
        struct Array: Decodable { var shape: [Int]; var values: [Float] }
        struct Case: Decodable {
            var name: String
            var loss: String
            var reduction: String
            var inputs: [String: Array]
            var output: Float
            var probe: Float
            var grads: [String: [Float]]
            var targets: [Int]?
            var label_smoothing: Float?
            var weight: [Float]?
            var pos_weight: [Float]?
        }
        var torch: String
        var cases: [Case]
    }

    static let golden: Result<Golden, Error> = Result {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("Golden/loss_golden.json")
        return try JSONDecoder().decode(Golden.self, from: Data(contentsOf: url))
    }

    /// Fovea's loss for a golden case, built from leaves `input` and `target`.
    func loss(_ c: Golden.Case, input: Tensor, target: Tensor?) throws -> Tensor {
        let reduction = try XCTUnwrap(LossReduction(rawValue: c.reduction), "reduction \(c.reduction)")
        let weight = c.weight.map { Tensor($0) }
        let smoothing = c.label_smoothing ?? 0
        switch c.loss {
        case "mse": return try Tensor.mseLoss(input, XCTUnwrap(target), reduction: reduction)
        case "l1": return try Tensor.l1Loss(input, XCTUnwrap(target), reduction: reduction)
        case "cross_entropy":
            return try Tensor.crossEntropy(logits: input, targets: XCTUnwrap(c.targets), labelSmoothing: smoothing,
                                           weight: weight, reduction: reduction)
        case "cross_entropy_probabilities":
            return try Tensor.crossEntropy(logits: input, probabilities: XCTUnwrap(target), labelSmoothing: smoothing,
                                           weight: weight, reduction: reduction)
        case "nll":
            return try Tensor.nllLoss(logProbabilities: input, targets: XCTUnwrap(c.targets), weight: weight, reduction: reduction)
        case "bce": return try Tensor.binaryCrossEntropy(input, XCTUnwrap(target), reduction: reduction)
        case "bce_logits":
            return try Tensor.binaryCrossEntropyWithLogits(input, XCTUnwrap(target), posWeight: c.pos_weight.map { Tensor($0) },
                                                           reduction: reduction)
        default:
            throw TensorError.invalidArgument(op: "LossGoldenTests", "unknown golden loss \(c.loss)")
        }
    }

    func testEveryLossAndReductionMatchesPyTorch() throws {
        let golden = try Self.golden.get()
        XCTAssertEqual(golden.cases.count, 66)
        let kinds = Set(golden.cases.map(\.loss)), reductions = Set(golden.cases.map(\.reduction))
        XCTAssertEqual(kinds, ["mse", "l1", "cross_entropy", "cross_entropy_probabilities", "nll", "bce", "bce_logits"])
        XCTAssertEqual(reductions, Set(LossReduction.allCases.map(\.rawValue)))
        for c in golden.cases {
            let x = try XCTUnwrap(c.inputs["input"])
            let input = try Tensor(shape: x.shape, values: x.values, requiresGrad: true)
            let target = try c.inputs["target"].map {
                try Tensor(shape: $0.shape, values: $0.values, requiresGrad: c.grads["target"] != nil)
            }
            let out = try loss(c, input: input, target: target)
            XCTAssertEqual(out.shape, [], c.name)
            assertClose([out.item], [c.output], rtol: 1e-4, atol: 1e-6, "\(c.name) loss")
            try out.backward(gradient: Tensor(scalar: c.probe))
            assertClose(try XCTUnwrap(input.grad, c.name).values, try XCTUnwrap(c.grads["input"]), rtol: 1e-4, atol: 1e-6,
                        "\(c.name) d/dinput")
            if let expected = c.grads["target"] {
                assertClose(try XCTUnwrap(target?.grad, "\(c.name): no target gradient").values, expected, rtol: 1e-4, atol: 1e-6,
                            "\(c.name) d/dtarget")
            }
        }
    }

    /// `crossEntropy(logits:targets:)` is `nllLoss(logSoftmax(logits))`, and with one-hot
    /// probabilities it is the index form, for every reduction, smoothing and weighting
    /// PyTorch agrees on.
    func testCrossEntropyFormsAgree() throws {
        let logits = randomTensor([4, 3], seed: 21, low: -3, high: 3), idx = [2, 0, 1, 2]
        let oneHot = try Tensor.oneHot(idx, classes: 3), w = Tensor([0.3, 1, 2])
        for r in LossReduction.allCases {
            let a = try Tensor.crossEntropy(logits: logits, targets: idx, weight: w, reduction: r)
            let b = try Tensor.nllLoss(logProbabilities: logits.logSoftmax(axis: 1), targets: idx, weight: w, reduction: r)
            assertClose([a.item], [b.item], rtol: 1e-5)
            let c = try Tensor.crossEntropy(logits: logits, targets: idx, labelSmoothing: 0.3, reduction: r)
            let d = try Tensor.crossEntropy(logits: logits, probabilities: oneHot, labelSmoothing: 0.3, reduction: r)
            assertClose([c.item], [d.item], rtol: 1e-5)
        }
    }
}
