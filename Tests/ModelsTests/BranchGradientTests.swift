import Foundation
import FoveaTestSupport
import Models
import NN
import TensorCore
import XCTest

/// Graphs with branches go through autograd like any other op: each block's gradients with
/// respect to its input and its first convolution's weight agree with central finite
/// differences. Blocks run in evaluation mode, so batch norm is a fixed affine map and the
/// check sees only the branching (batch norm's training gradient has its own tests). The
/// blocks are piecewise linear (ReLU, max pool), so some checked elements straddle a kink:
/// measured, a lone 1x1 conv + ReLU with Inception's N(0, 0.1) weights has 22 of 256 weight
/// elements (9%) within ±1e-3 of one, so up to 15% may disagree; a dropped or doubled branch
/// would disagree nearly everywhere.
final class BranchGradientTests: XCTestCase {
    func check(_ block: Layer, input shape: [Int], seed: UInt64, file: StaticString = #filePath, line: UInt = #line) throws {
        GlobalRandom.seed(seed)
        block.eval()
        var gen = SeededGenerator(seed: seed)
        let x = Tensor.normal(shape, generator: &gen)
        let weight = try XCTUnwrap(block.parameters.first)
        try checkGradients([x, weight], eps: 1e-3, rtol: 1e-2, atol: 2e-3, maxElements: 60, kinkFraction: 0.15, file: file, line: line) {
            try block(x)
        }
    }

    func testResidualBlocks() throws {
        try check(BasicBlock(4, planes: 4), input: [2, 4, 5, 5], seed: 1)           // identity shortcut
        try check(BasicBlock(3, planes: 6, stride: 2), input: [2, 3, 6, 6], seed: 2)  // projection shortcut
        try check(Bottleneck(8, planes: 2), input: [1, 8, 4, 4], seed: 3)            // 2 * 4 = 8: identity
    }

    func testConcatenatingBlocks() throws {
        try check(InceptionModule(4, 2, 2, 3, 1, 2, 2, weightInit: .kaimingUniform), input: [2, 4, 5, 5], seed: 4)
        try check(DenseBlock(layers: 3, inChannels: 3, growthRate: 2, bottleneckFactor: 2, dropRate: 0), input: [2, 3, 4, 4], seed: 5)
        try check(Fire(4, squeeze: 2, expand1x1: 3, expand3x3: 3), input: [2, 4, 5, 5], seed: 6)
        try check(InceptionA(4, poolFeatures: 2), input: [1, 4, 5, 5], seed: 7)
    }

    func testSplitShuffleAndInvertedResidual() throws {
        try check(ShuffleUnit(6, 6, stride: 1), input: [2, 6, 4, 4], seed: 8)
        try check(ShuffleUnit(4, 8, stride: 2), input: [2, 4, 6, 6], seed: 9)
        try check(InvertedResidual(4, 4, stride: 1, expansion: 2), input: [2, 4, 5, 5], seed: 10)
    }
}
