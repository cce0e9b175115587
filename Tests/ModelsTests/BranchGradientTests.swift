import Foundation
import FoveaTestSupport
import Models
import NN
import TensorCore
import XCTest

/// Graphs with branches go through autograd like any other op: each block's gradients with
/// respect to its input and its largest convolution weight agree with central finite
/// differences. Blocks run in evaluation mode, so batch norm is a fixed affine map (its training
/// gradient has its own tests).
///
/// The blocks are piecewise linear (ReLU, max pool): a ±eps step that crosses a kink makes the
/// difference quotient wrong while the gradient is right. Measured: a lone 1x1 conv + ReLU with
/// Inception's N(0, 0.1) weights has 22 of 256 weight elements within reach of one at eps 1e-3,
/// so up to 15% of the checked elements may disagree; a dropped or doubled branch disagrees
/// nearly everywhere. Inception v3's InceptionA feeds thousands of ReLUs from each input
/// (30 of 100 elements disagreed at eps 1e-3, 15 at 3e-4), and the inception and fire modules,
/// with zero biases and two-channel reductions, leave units exactly at the kink wherever both
/// reducing units are off; these three are checked with every bias raised by 3, which keeps nearly
/// all ReLUs on (InceptionA also with eps 3e-2: all 100 elements agree, while at 1e-3 float
/// rounding of its outputs, up to 70, dominates instead).
final class BranchGradientTests: XCTestCase {
    /// Builds the block after seeding, so its weights do not depend on which tests ran before.
    func check(_ make: @autoclosure () throws -> Layer, input shape: [Int], seed: UInt64, raiseBiases: Bool = false, eps: Float = 1e-3,
               file: StaticString = #filePath, line: UInt = #line) throws {
        GlobalRandom.seed(seed)
        let block = try make()
        block.eval()
        if raiseBiases {
            for layer in block.allLayers {
                if let b = (layer as? BatchNorm)?.bias ?? (layer as? Conv2D)?.bias { for i in 0..<b.count { b.pointer[i] += 3 } }
            }
        }
        var gen = SeededGenerator(seed: seed)
        let x = Tensor.normal(shape, generator: &gen)
        let weight = try XCTUnwrap(block.parameters.filter { $0.rank == 4 }.max { $0.count < $1.count })
        try checkGradients([x, weight], eps: eps, rtol: 2e-2, atol: 2e-3, maxElements: 100,
                           kinkFraction: 0.15, file: file, line: line) {
            try block(x)
        }
    }

    func testResidualBlocks() throws {
        try check(BasicBlock(4, planes: 4), input: [2, 4, 5, 5], seed: 1)           // identity shortcut
        try check(BasicBlock(3, planes: 6, stride: 2), input: [2, 3, 6, 6], seed: 2)  // projection shortcut
        try check(Bottleneck(8, planes: 2), input: [1, 8, 4, 4], seed: 3)            // 2 * 4 = 8: identity
    }

    func testConcatenatingBlocks() throws {
        try check(InceptionModule(4, 2, 2, 3, 1, 2, 2, weightInit: .kaimingUniform), input: [2, 4, 5, 5], seed: 4, raiseBiases: true)
        try check(DenseBlock(layers: 3, inChannels: 3, growthRate: 2, bottleneckFactor: 2, dropRate: 0), input: [2, 3, 4, 4], seed: 5)
        try check(Fire(4, squeeze: 2, expand1x1: 3, expand3x3: 3), input: [2, 4, 5, 5], seed: 6, raiseBiases: true)
        try check(InceptionA(4, poolFeatures: 2), input: [1, 4, 5, 5], seed: 7, raiseBiases: true, eps: 3e-2)
    }

    func testSplitShuffleAndInvertedResidual() throws {
        try check(ShuffleUnit(6, 6, stride: 1), input: [2, 6, 4, 4], seed: 8)
        try check(ShuffleUnit(4, 8, stride: 2), input: [2, 4, 6, 6], seed: 9)
        try check(InvertedResidual(4, 4, stride: 1, expansion: 2), input: [2, 4, 5, 5], seed: 10)
    }
}
