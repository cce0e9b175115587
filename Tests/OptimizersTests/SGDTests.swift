import XCTest
import TensorCore
import Optimizers
import FoveaTestSupport

final class SGDTests: XCTestCase {
    /// Three steps of momentum SGD on f(θ) = ½ θ², whose gradient is θ, worked by hand with
    /// PyTorch's rule v = μv + g (v₁ = g₁), θ -= η v. η = 0.1, μ = 0.9, θ₀ = 1:
    /// g₁ = 1,     v₁ = 1,          θ₁ = 0.9
    /// g₂ = 0.9,   v₂ = 0.9 + 0.9 = 1.8,    θ₂ = 0.72
    /// g₃ = 0.72,  v₃ = 1.62 + 0.72 = 2.34, θ₃ = 0.486
    func testMomentumMatchesTheHandComputedTrajectory() throws {
        let theta = Tensor([1], requiresGrad: true)
        let sgd = try SGD(parameters: [theta], learningRate: 0.1, momentum: 0.9)
        var trajectory: [Float] = []
        for _ in 0..<3 {
            sgd.zeroGrad()
            try (theta.squared() * 0.5).sum().backward()
            sgd.step()
            trajectory.append(theta.item)
        }
        assertClose(trajectory, [0.9, 0.72, 0.486], rtol: 1e-6)
    }

    /// Nesterov: d = g + μ v. Step 1: v = 1, d = 1.9, θ = 1 - 0.19 = 0.81.
    func testNesterovFirstStep() throws {
        let theta = Tensor([1], requiresGrad: true)
        let sgd = try SGD(parameters: [theta], learningRate: 0.1, momentum: 0.9, nesterov: true)
        try (theta.squared() * 0.5).sum().backward()
        sgd.step()
        XCTAssertEqual(theta.item, 0.81, accuracy: 1e-6)
    }

    /// Plain SGD with weight decay λ: θ -= η (g + λθ). θ = 2, g = θ = 2, λ = 0.5, η = 0.1 -> 2 - 0.3 = 1.7.
    func testWeightDecay() throws {
        let theta = Tensor([2], requiresGrad: true)
        let sgd = try SGD(parameters: [theta], learningRate: 0.1, weightDecay: 0.5)
        try (theta.squared() * 0.5).sum().backward()
        sgd.step()
        XCTAssertEqual(theta.item, 1.7, accuracy: 1e-6)
    }

    func testParametersWithoutGradientsAreLeftAlone() throws {
        let a = Tensor([1], requiresGrad: true), b = Tensor([5], requiresGrad: true)
        let sgd = try SGD(parameters: [a, b], learningRate: 0.1, momentum: 0.9)
        try a.sum().backward()
        sgd.step()
        XCTAssertEqual(b.item, 5)
        XCTAssertEqual(a.item, 0.9, accuracy: 1e-6)
    }

    func testInvalidSettingsThrow() {
        XCTAssertThrowsError(try SGD(parameters: [], learningRate: -1)) { XCTAssertTrue("\($0)".contains("-1"), "\($0)") }
        XCTAssertThrowsError(try SGD(parameters: [], learningRate: 0.1, nesterov: true))
    }
}
