import FoveaTestSupport
import TensorCore
import XCTest

/// Central finite differences for the ops of the course's training techniques: the ReLU
/// family, batch normalisation, dropout, and the extra losses.
final class TechniqueGradientTests: XCTestCase {
    func testReLUFamily() throws {
        // Keep inputs away from the kinks at 0, where finite differences straddle two slopes.
        let x = try Tensor(shape: [3, 4], values: (0..<12).map { Float($0 % 2 == 0 ? 1 : -1) * (0.2 + 0.13 * Float($0)) })
        try checkGradients([x]) { x.leakyRelu(slope: 0.1) }
        try checkGradients([x]) { x.elu(alpha: 0.7) }
        try checkGradients([x]) { x.selu() }
        try checkGradients([x]) { x.gelu() }
        try checkGradients([x]) { x.gelu(approximate: .tanh) }
    }

    func testPReLUSharedAndPerChannel() throws {
        let x = try Tensor(shape: [2, 3, 2, 2], values: (0..<24).map { Float($0 % 3 == 0 ? 1 : -1) * (0.3 + 0.1 * Float($0)) })
        let shared = Tensor([0.25])
        try checkGradients([x, shared]) { try x.prelu(slope: shared) }
        let perChannel = Tensor([0.1, 0.2, 0.3])
        try checkGradients([x, perChannel]) { try x.prelu(slope: perChannel) }
        XCTAssertThrowsError(try x.prelu(slope: Tensor([0.1, 0.2])))
    }

    func testBatchNormTrainingAndEvaluation() throws {
        // [2, 3, 4, 4] has planes of 16, which take the C row kernels; the others do not.
        for shape in [[4, 3], [3, 2, 3, 2], [2, 3, 4, 4]] {
            let x = randomTensor(shape, seed: 3)
            let gamma = randomTensor([shape[1]], seed: 4, low: 0.5, high: 1.5)
            let beta = randomTensor([shape[1]], seed: 5)
            try checkGradients([x, gamma, beta], eps: 1e-2, rtol: 2e-2, atol: 2e-3) {
                try Tensor.batchNorm(x, weight: gamma, bias: beta, runningMean: nil, runningVar: nil, training: true)
            }
            let mean = randomTensor([shape[1]], seed: 6), variance = randomTensor([shape[1]], seed: 7, low: 0.5, high: 2)
            try checkGradients([x, gamma, beta]) {
                try Tensor.batchNorm(x, weight: gamma, bias: beta, runningMean: mean, runningVar: variance, training: false)
            }
        }
    }

    func testBatchNormPReLUGradients() throws {
        // Planes of 16 (row kernels) and [N, C] (channel kernels); a shared and a per-channel
        // slope. Kinks: finite differences across v = 0 would be wrong, so x is spread out
        // and the check's step is small against the gaps.
        for shape in [[4, 3], [2, 3, 4, 4]] {
            let x = randomTensor(shape, seed: 13)
            let gamma = randomTensor([shape[1]], seed: 14, low: 0.5, high: 1.5)
            let beta = randomTensor([shape[1]], seed: 15, low: -0.3, high: 0.3)
            for slope in [Tensor([0.25]), randomTensor([shape[1]], seed: 16, low: 0.05, high: 0.5)] {
                try checkGradients([x, gamma, beta, slope], eps: 1e-3, rtol: 3e-2, atol: 3e-3) {
                    try Tensor.batchNormPReLU(x, weight: gamma, bias: beta, runningMean: nil, runningVar: nil, training: true,
                                              slope: slope)
                }
                let mean = randomTensor([shape[1]], seed: 17), variance = randomTensor([shape[1]], seed: 18, low: 0.5, high: 2)
                try checkGradients([x, gamma, beta, slope], eps: 1e-3, rtol: 3e-2, atol: 3e-3) {
                    try Tensor.batchNormPReLU(x, weight: gamma, bias: beta, runningMean: mean, runningVar: variance,
                                              training: false, slope: slope)
                }
            }
        }
        XCTAssertThrowsError(try Tensor.batchNormPReLU(randomTensor([2, 3, 4, 4], seed: 1), weight: nil, bias: nil,
                                                       runningMean: nil, runningVar: nil, training: true,
                                                       slope: Tensor([0.1, 0.2]))) { error in
            XCTAssertTrue("\(error)".contains("needs 1 or 3 values"), "\(error)")
        }
    }

    func testConvReLUMaxPoolGradients() throws {
        // The fused stage on the direct kernels (6 -> 4 channels, 6x6 -> 4x4 -> 2x2), by
        // finite differences; a step of 1e-3 against inputs whose pre-activations and window
        // maxima are rarely closer than that (fixed seeds, so a check that passes always does).
        let x = randomTensor([2, 6, 6, 6], seed: 21), w = randomTensor([4, 6, 3, 3], seed: 22)
        let b = randomTensor([4], seed: 23, low: -0.2, high: 0.2)
        try checkGradients([x, w, b], eps: 1e-3, rtol: 3e-2, atol: 3e-3) {
            try Tensor.conv2dReLUMaxPool2x2(x, weight: w, bias: b)
        }
    }

    func testBatchNormNormalisesAndTracksRunningStatistics() throws {
        let x = try Tensor(shape: [4, 1], values: [1, 2, 3, 6])
        let rm = Tensor(zeros: [1]), rv = Tensor(repeating: 1, shape: [1])
        let y = try Tensor.batchNorm(x, weight: nil, bias: nil, runningMean: rm, runningVar: rv, training: true, momentum: 0.1, eps: 1e-12)
        // mean 3, biased variance 3.5, unbiased 14/3.
        assertClose(y.values, [-2, -1, 0, 3].map { $0 / Float(3.5).squareRoot() }, rtol: 1e-5)
        assertClose(rm.values, [0.3])
        assertClose(rv.values, [0.9 + 0.1 * 14 / 3], rtol: 1e-6)
    }

    func testGlobalAndAdaptivePooling() throws {
        let x = randomTensor([2, 2, 5, 7], seed: 15)
        try checkGradients([x]) { try x.globalAvgPool2d() }
        // Max pooling: values 0.1 apart, so a finite-difference step cannot change the winner.
        let spread = try Tensor(shape: [2, 2, 5, 7], values: (0..<140).map { Float(($0 * 37) % 140) * 0.1 })
        try checkGradients([spread]) { try spread.globalMaxPool2d() }
        try checkGradients([x]) { try x.adaptiveAvgPool2d(Size2D(3, 4)) }
        try checkGradients([x]) { try x.adaptiveAvgPool2d(Size2D(5, 7)) }
        XCTAssertEqual(try x.adaptiveAvgPool2d(Size2D(5, 7)).values, x.values, "same size is the identity")
    }

    func testDropoutGradientUsesTheSameMask() throws {
        let x = randomTensor([4, 5], seed: 8)
        var g1 = SeededGenerator(seed: 1)
        let y = try x.dropout(p: 0.4, generator: &g1)
        try checkGradients([x]) {
            var g = SeededGenerator(seed: 1)
            return try x.dropout(p: 0.4, generator: &g)
        }
        // Kept values are scaled by 1 / (1 - p), dropped ones are 0.
        for (a, b) in zip(y.values, x.values) { XCTAssertTrue(a == 0 || abs(a - b / 0.6) < 1e-6) }
    }

    func testLosses() throws {
        let p = randomTensor([3, 4], seed: 9), t = randomTensor([3, 4], seed: 10)
        for r in LossReduction.allCases {
            try checkGradients([p]) { try Tensor.mseLoss(p, t, reduction: r) }
            try checkGradients([p]) { try Tensor.l1Loss(p, t, reduction: r) }
        }
        let logits = randomTensor([3, 4], seed: 11, low: -2, high: 2)
        try checkGradients([logits]) { try Tensor.crossEntropy(logits: logits, targets: [0, 3, 1], labelSmoothing: 0.2) }
        let soft = try Tensor(shape: [3, 4], values: [0.1, 0.2, 0.3, 0.4, 1, 0, 0, 0, 0.25, 0.25, 0.25, 0.25])
        try checkGradients([logits]) { try Tensor.crossEntropy(logits: logits, probabilities: soft, labelSmoothing: 0.1) }
        try checkGradients([logits]) { try Tensor.nllLoss(logProbabilities: logits.logSoftmax(axis: 1), targets: [2, 2, 0]) }
        let probabilities = randomTensor([2, 3], seed: 12, low: 0.1, high: 0.9)
        let targets = randomTensor([2, 3], seed: 13, low: 0, high: 1)
        try checkGradients([probabilities, targets], eps: 1e-3) { try Tensor.binaryCrossEntropy(probabilities, targets) }
        let bitTargets = randomTensor([3, 4], seed: 14, low: 0, high: 1)
        try checkGradients([logits, bitTargets]) { try Tensor.binaryCrossEntropyWithLogits(logits, bitTargets) }
    }
}
