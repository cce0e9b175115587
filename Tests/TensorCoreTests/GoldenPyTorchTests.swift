import Foundation
import FoveaTestSupport
import TensorCore
import XCTest

/// Fovea against PyTorch 2.15 on values recorded by `Golden/make_pytorch_golden.py`
/// (in `Golden/pytorch_golden.json`): outputs and the gradients of `sum(output * probe)`.
final class GoldenPyTorchTests: XCTestCase {
    struct Golden: Decodable {
        struct Array: Decodable { var shape: [Int]; var values: [Float] }
        struct Case: Decodable {
            var name: String
            var inputs: [String: Array]
            var output: Array
            var probe: [Float]
            var grads: [String: [Float]]
            var targets: [Int]?
            var target: [Float]?
            var running_mean_before: [Float]?
            var running_var_before: [Float]?
            var running_mean_after: [Float]?
            var running_var_after: [Float]?
        }
        var torch: String
        var cases: [Case]
    }

    static let golden: Golden? = {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("Golden/pytorch_golden.json")
        return (try? Data(contentsOf: url)).flatMap { try? JSONDecoder().decode(Golden.self, from: $0) }
    }()

    /// Runs `forward` on the case's inputs (as leaves requiring gradients) and compares the
    /// output and every input gradient with PyTorch's.
    func check(_ name: String, rtol: Float = 1e-4, atol: Float = 1e-5,
               file: StaticString = #filePath, line: UInt = #line,
               _ forward: (_ inputs: [String: Tensor], _ golden: Golden.Case) throws -> Tensor) throws {
        let golden = try XCTUnwrap(Self.golden, "Golden/pytorch_golden.json is missing or unreadable")
        let c = try XCTUnwrap(golden.cases.first { $0.name == name }, "no golden case \(name)")
        var leaves: [String: Tensor] = [:]
        for (key, array) in c.inputs {
            leaves[key] = try Tensor(shape: array.shape, values: array.values, requiresGrad: true)
        }
        let out = try forward(leaves, c)
        XCTAssertEqual(out.shape, c.output.shape, "\(name) output shape", file: file, line: line)
        assertClose(out.values, c.output.values, rtol: rtol, atol: atol, "\(name) output", file: file, line: line)
        let probe = try Tensor(shape: out.shape, values: c.probe)
        try (out * probe).sum().backward()
        for (key, expected) in c.grads {
            let grad = try XCTUnwrap(leaves[key]?.grad, "\(name): no gradient for \(key)", file: file, line: line)
            assertClose(grad.values, expected, rtol: rtol, atol: atol, "\(name) d/d\(key)", file: file, line: line)
        }
    }

    func testConvolutionWithGroupsStridePaddingAndDilation() throws {
        try check("conv2d_groups_stride_padding_dilation") { x, _ in
            try Tensor.conv2d(x["x"]!, weight: x["w"]!, bias: x["b"]!, stride: Size2D(2, 1),
                              padding: .symmetric(1, 2), dilation: Size2D(1, 2), groups: 2)
        }
    }

    func testConvolutionSamePaddingWithDilation() throws {
        try check("conv2d_same_dilation2") { x, _ in
            try Tensor.conv2d(x["x"]!, weight: x["w"]!, bias: x["b"]!, padding: .same, dilation: 2)
        }
    }

    func testDepthwiseConvolution() throws {
        try check("conv2d_depthwise_stride2") { x, _ in
            try Tensor.conv2d(x["x"]!, weight: x["w"]!, stride: 2, padding: .uniform(1), groups: 3)
        }
    }

    func testMaxPoolingWithPaddingAndCeilMode() throws {
        try check("max_pool2d_k3_s2_p1_ceil") { x, _ in
            try Tensor.maxPool2d(x["x"]!, kernel: 3, stride: 2, padding: .uniform(1), ceilMode: true)
        }
    }

    func testAveragePoolingExcludingPadding() throws {
        try check("avg_pool2d_k3_s2_p1_exclude_pad") { x, _ in
            try Tensor.avgPool2d(x["x"]!, kernel: 3, stride: 2, padding: .uniform(1), countIncludePad: false)
        }
    }

    func testAveragePoolingIncludingPaddingWithCeilMode() throws {
        try check("avg_pool2d_k2_include_pad_ceil") { x, _ in
            try Tensor.avgPool2d(x["x"]!, kernel: 2, stride: 2, padding: .uniform(1), ceilMode: true, countIncludePad: true)
        }
    }

    func testSoftmaxAndLogSoftmax() throws {
        try check("log_softmax_axis1") { x, _ in try x["x"]!.logSoftmax(axis: 1) }
        try check("softmax_axis0") { x, _ in try x["x"]!.softmax(axis: 0) }
    }

    func testPointwiseActivations() throws {
        try check("tanh_sigmoid_relu") { x, _ in
            let v = x["x"]!
            return try v.tanh() + v.sigmoid() * v.relu()
        }
    }

    func testLosses() throws {
        try check("cross_entropy") { x, c in try Tensor.crossEntropy(logits: x["x"]!, targets: c.targets ?? []) }
        try check("mse_loss") { x, c in
            try Tensor.mseLoss(x["x"]!, Tensor(shape: x["x"]!.shape, values: c.target ?? []))
        }
    }

    func testReLUFamily() throws {
        try check("leaky_relu") { x, _ in x["x"]!.leakyRelu(slope: 0.1) }
        try check("elu") { x, _ in x["x"]!.elu(alpha: 0.7) }
        try check("selu") { x, _ in x["x"]!.selu() }
        try check("gelu") { x, _ in x["x"]!.gelu() }
        try check("gelu_tanh") { x, _ in x["x"]!.gelu(approximate: .tanh) }
        try check("prelu_shared") { x, _ in try x["x"]!.prelu(slope: x["a"]!) }
        try check("prelu_channels") { x, _ in try x["x"]!.prelu(slope: x["a"]!) }
    }

    func testBatchNormTrainingUpdatesRunningStatistics() throws {
        for name in ["batch_norm_1d", "batch_norm_2d"] {
            var runningMean = Tensor([]), runningVar = Tensor([])
            var golden: Golden.Case?
            try check(name) { x, c in
                golden = c
                runningMean = Tensor(c.running_mean_before ?? [])
                runningVar = Tensor(c.running_var_before ?? [])
                return try Tensor.batchNorm(x["x"]!, weight: x["w"]!, bias: x["b"]!, runningMean: runningMean,
                                            runningVar: runningVar, training: true, momentum: 0.1, eps: 1e-5)
            }
            assertClose(runningMean.values, golden?.running_mean_after ?? [], rtol: 1e-4, atol: 1e-5, "\(name) running mean")
            assertClose(runningVar.values, golden?.running_var_after ?? [], rtol: 1e-4, atol: 1e-5, "\(name) running var")
        }
    }

    func testBatchNormEvaluationUsesRunningStatistics() throws {
        for name in ["batch_norm_1d_eval", "batch_norm_2d_eval"] {
            try check(name) { x, c in
                try Tensor.batchNorm(x["x"]!, weight: x["w"]!, bias: x["b"]!, runningMean: Tensor(c.running_mean_before ?? []),
                                     runningVar: Tensor(c.running_var_before ?? []), training: false, eps: 1e-5)
            }
        }
    }

    func testMoreLosses() throws {
        func target(_ x: [String: Tensor], _ c: Golden.Case) throws -> Tensor {
            try Tensor(shape: x["x"]!.shape, values: c.target ?? [])
        }
        try check("mse_sum") { x, c in try Tensor.mseLoss(x["x"]!, target(x, c), reduction: .sum) }
        try check("l1_mean") { x, c in try Tensor.l1Loss(x["x"]!, target(x, c)) }
        try check("cross_entropy_smoothing") { x, c in
            try Tensor.crossEntropy(logits: x["x"]!, targets: c.targets ?? [], labelSmoothing: 0.2)
        }
        try check("cross_entropy_soft") { x, c in
            try Tensor.crossEntropy(logits: x["x"]!, probabilities: target(x, c), labelSmoothing: 0.1)
        }
        try check("nll") { x, c in try Tensor.nllLoss(logProbabilities: x["x"]!.logSoftmax(axis: 1), targets: c.targets ?? []) }
        try check("bce") { x, c in try Tensor.binaryCrossEntropy(x["x"]!, target(x, c)) }
        try check("bce_logits") { x, c in try Tensor.binaryCrossEntropyWithLogits(x["x"]!, target(x, c)) }
    }

    func testGlobalAndAdaptivePooling() throws {
        try check("adaptive_avg_pool_5x7_to_3x4") { x, _ in try x["x"]!.adaptiveAvgPool2d(Size2D(3, 4)) }
        try check("global_avg_pool") { x, _ in try x["x"]!.globalAvgPool2d() }
        try check("global_max_pool") { x, _ in try x["x"]!.globalMaxPool2d() }
    }
}

extension GoldenPyTorchTests {
    /// The ops the model zoo added: LRN (AlexNet/ZFNet), ReLU6/HardTanh (MobileNet v2), and
    /// concatenation followed by a channel shuffle (ShuffleNet v2).
    func testModelZooOps() throws {
        try check("local_response_norm_alexnet") { x, _ in try x["x"]!.localResponseNorm(size: 5, alpha: 1e-4, beta: 0.75, k: 2) }
        try check("local_response_norm_strong") { x, _ in try x["x"]!.localResponseNorm(size: 4, alpha: 0.5, beta: 0.6, k: 1) }
        try check("relu6_hardtanh") { x, _ in try x["x"]!.relu6() + x["x"]!.hardTanh(low: -2, high: 3) }
        try check("channel_shuffle_concat") { x, _ in
            try Tensor.concatenate([x["a"]!, x["b"]!], axis: 1).channelShuffled(groups: 2)
        }
        // GoogLeNet and SqueezeNet at their smallest inputs pool 2x2 maps with 3x3 ceil-mode windows.
        try check("max_pool_ceil_window_past_input") { x, _ in try Tensor.maxPool2d(x["x"]!, kernel: 3, stride: 2, ceilMode: true) }
        try check("avg_pool_ceil_window_past_input") { x, _ in try Tensor.avgPool2d(x["x"]!, kernel: 3, stride: 2, ceilMode: true) }
    }
}
