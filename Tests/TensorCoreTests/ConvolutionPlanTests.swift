import XCTest
import TensorCore
import FoveaTestSupport

/// `ConvolutionPlan`: made once per geometry, passed to the ops, checked against the
/// operands, and captured by the backward.
final class ConvolutionPlanTests: XCTestCase {
    /// A plan passed explicitly gives the same bits as the one the op makes itself, forward
    /// and backward, for a lowered, a direct and a Winograd geometry.
    func testAGivenPlanGivesTheSameBits() throws {
        for (input, weight, padding) in [([3, 20, 12, 12], [50, 20, 5, 5], Padding.valid),
                                         ([2, 6, 14, 14], [16, 6, 5, 5], .valid),
                                         ([2, 16, 14, 14], [24, 16, 3, 3], .uniform(1))] {
            let plan = try Tensor.convolutionPlan(input: input, weight: weight, padding: padding)
            func run(_ plan: ConvolutionPlan?) throws -> ([Float], [Float], [Float]) {
                let x = randomTensor(input, seed: 1, requiresGrad: true), w = randomTensor(weight, seed: 2, requiresGrad: true)
                let y = try Tensor.conv2dReLU(x, weight: w, bias: randomTensor([weight[0]], seed: 3), padding: padding, plan: plan)
                try (y * randomTensor(y.shape, seed: 4)).sum().backward()
                return (y.values, x.grad!.values, w.grad!.values)
            }
            let given = try run(plan), made = try run(nil)
            XCTAssertEqual(given.0, made.0, "\(input) y")
            XCTAssertEqual(given.1, made.1, "\(input) dx")
            XCTAssertEqual(given.2, made.2, "\(input) dw")
        }
    }

    /// A plan made for other operands is refused with both geometries in the message.
    func testAPlanForAnotherGeometryThrows() throws {
        let plan = try Tensor.convolutionPlan(input: [2, 3, 8, 8], weight: [4, 3, 3, 3])
        let x = randomTensor([2, 3, 9, 9], seed: 1), w = randomTensor([4, 3, 3, 3], seed: 2)
        for op in [{ try Tensor.conv2d(x, weight: w, plan: plan) }, { try Tensor.conv2dReLU(x, weight: w, plan: plan) },
                   { try Tensor.conv2dReLUMaxPool2x2(x, weight: w, plan: plan) },
                   { try Tensor.conv2dInference(x, weight: w, epilogue: ConvEpilogue(scale: [1, 1, 1, 1], shift: [0, 0, 0, 0], relu: false),
                                                plan: plan) }] {
            XCTAssertThrowsError(try op()) { error in
                let message = "\(error)"
                XCTAssertTrue(message.contains("[2, 3, 8, 8]") && message.contains("[2, 3, 9, 9]"), message)
            }
        }
    }

    /// The plan records the options and thread count in force when it is made; the
    /// backward runs on the forward's plan, so changing them between the two changes
    /// nothing.
    func testTheBackwardRunsOnTheForwardsPlan() throws {
        let plan = try Tensor.withConvolutionOptions(ConvolutionOptions(method: .lowered, keptColumnLimit: 0)) {
            try Parallel.withThreads(1) { try Tensor.convolutionPlan(input: [4, 6, 14, 14], weight: [16, 6, 5, 5]) }
        }
        XCTAssertEqual(plan.forward, .lowered)
        XCTAssertEqual(plan.weightGradient, .lowered)
        XCTAssertFalse(plan.keepsColumns)
        XCTAssertEqual(plan.threads, 1)
        XCTAssertEqual(try Tensor.convolutionPlan(input: [4, 6, 14, 14], weight: [16, 6, 5, 5]).forward, .direct)
        func run(switching: Bool) throws -> [Float] {
            let x = randomTensor([4, 6, 14, 14], seed: 5, requiresGrad: true), w = randomTensor([16, 6, 5, 5], seed: 6, requiresGrad: true)
            let y = try Tensor.withConvolutionMethod(.lowered) { try Parallel.withThreads(1) { try Tensor.conv2d(x, weight: w) } }
            let loss = try (y * randomTensor(y.shape, seed: 7)).sum()
            if switching {
                try Tensor.withConvolutionMethod(.direct) { try Parallel.withThreads(2) { try loss.backward() } }
            } else {
                try Tensor.withConvolutionMethod(.lowered) { try Parallel.withThreads(1) { try loss.backward() } }
            }
            return x.grad!.values + w.grad!.values
        }
        XCTAssertEqual(try run(switching: true), try run(switching: false))
    }

    /// `Parallel.withThreads` binds the thread count for its body only.
    func testThreadsAreBoundForTheBodyOnly() {
        let outside = Parallel.threadCount
        Parallel.withThreads(3) {
            XCTAssertEqual(Parallel.threadCount, 3)
            Parallel.withThreads(0) { XCTAssertEqual(Parallel.threadCount, 1) }
        }
        XCTAssertEqual(Parallel.threadCount, outside)
    }
}
