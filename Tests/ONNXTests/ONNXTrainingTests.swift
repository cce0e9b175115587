import Foundation
import XCTest
import TensorCore
import NN
import ONNX
import FoveaTestSupport

/// Imported graphs are trainable: gradients through the ONNX operators agree with finite
/// differences, and the transposed convolution Fovea adds for ConvTranspose is right.
final class ONNXTrainingTests: XCTestCase {
    func testGradientsThroughAnImportedGraphMatchFiniteDifferences() throws {
        GlobalRandom.seed(3)
        let network = try makeSmallNetwork()
        randomizeBatchNorms(network, seed: 5)
        let imported = try ONNXImporter.load(data: try ONNXExporter.data(network, inputShape: [2, 8, 8]))
        XCTAssertEqual(imported.namedParameters().map(\.name), network.namedParameters().map(\.name))
        let x = randomTensor([2, 2, 8, 8], seed: 11)
        // Evaluation mode: batch norm uses its running statistics, dropout passes through.
        try checkGradients(imported.parameters + [x], eps: 1e-2, rtol: 2e-2, atol: 2e-3, kinkFraction: 0.05) {
            try imported(x)
        }
    }

    func testImportedStateDictLoadsBackAndMatchesTheExportedModel() throws {
        GlobalRandom.seed(4)
        let network = try makeSmallNetwork()
        let imported = try ONNXImporter.load(data: try ONNXExporter.data(network, inputShape: [2, 8, 8]))
        let state = imported.stateDict()
        XCTAssertEqual(Set(state.map(\.name)), Set(network.stateDict().map(\.name)).subtracting(["1.num_batches_tracked"]))
        // Fovea's weights flow into the imported model by name, as into a PyTorch state dict.
        for p in imported.parameters { p.pointer.update(repeating: 0, count: p.count) }
        let source = Dictionary(network.stateDict().map { ($0.name, $0.tensor) }, uniquingKeysWith: { a, _ in a })
        try imported.loadStateDict(Dictionary(uniqueKeysWithValues: state.map { ($0.name, source[$0.name]!) }))
        network.eval()
        let x = randomTensor([3, 2, 8, 8], seed: 12)
        assertClose(try imported(x).values, try network(x).values, rtol: 1e-5, atol: 1e-6)
    }

    func testConvTransposeScattersEachInputPixelTimesTheKernel() throws {
        // Stride 2 with a 2x2 kernel: each input pixel becomes its own 2x2 block, x[i,j] * w.
        let x = try Tensor(shape: [1, 1, 2, 2], values: [1, 2, 3, 4])
        let w = try Tensor(shape: [1, 1, 2, 2], values: [1, 10, 100, 1000])
        let y = try Tensor.convTranspose2d(x, weight: w, bias: Tensor([0.5]), stride: 2)
        assertTensor(y, shape: [1, 1, 4, 4], [
            1.5, 10.5, 2.5, 20.5,
            100.5, 1000.5, 200.5, 2000.5,
            3.5, 30.5, 4.5, 40.5,
            300.5, 3000.5, 400.5, 4000.5,
        ])
        // Stride 1: the full convolution, overlapping sums: [1, 2] * [1, 1] -> [1, 3, 2].
        let row = try Tensor.convTranspose2d(try Tensor(shape: [1, 1, 1, 2], values: [1, 2]),
                                             weight: try Tensor(shape: [1, 1, 1, 2], values: [1, 1]))
        assertTensor(row, shape: [1, 1, 1, 3], [1, 3, 2])
    }

    func testConvTransposeGradientsMatchFiniteDifferences() throws {
        let x = randomTensor([2, 4, 3, 3], seed: 21, requiresGrad: true)
        let w = randomTensor([4, 3, 3, 2], seed: 22, requiresGrad: true)
        let b = randomTensor([6], seed: 23, requiresGrad: true)
        try checkGradients([x, w, b], eps: 1e-2, rtol: 1e-2, atol: 1e-3) {
            try Tensor.convTranspose2d(x, weight: w, bias: b, stride: Size2D(2, 1), padding: (1, 0, 0, 1),
                                       outputPadding: Size2D(1, 0), dilation: Size2D(1, 2), groups: 2)
        }
    }

    func testConvTransposeRejectsBadShapesWithTheirValues() {
        XCTAssertThrowsError(try Tensor.convTranspose2d(Tensor(zeros: [1, 3, 4, 4]), weight: Tensor(zeros: [2, 1, 3, 3]))) { error in
            XCTAssertTrue("\(error)".contains("[1, 3, 4, 4]"), "\(error)")
        }
        XCTAssertThrowsError(try Tensor.convTranspose2d(Tensor(zeros: [1, 1, 4, 4]), weight: Tensor(zeros: [1, 1, 3, 3]),
                                                        stride: 2, outputPadding: Size2D(2, 2)))
    }
}
