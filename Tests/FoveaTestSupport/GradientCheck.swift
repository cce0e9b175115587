import XCTest
import TensorCore

/// Checks the hand-written gradients of `f` against central finite differences.
///
/// The scalar checked is `L = Σ f(inputs) ⊙ R` for a fixed random `R`, so every output
/// element's gradient path is exercised. For each input, up to `maxElements` evenly spaced
/// elements are perturbed by ±`eps` and `(L(x+eps) - L(x-eps)) / 2eps` (computed in
/// Double from Float forward passes) is compared with the analytic gradient within
/// `atol + rtol * |numeric|`. `f` must build its result from `inputs` (which require
/// gradients) and may not be random.
///
/// `kinkFraction`: for whole networks of ReLUs and max pools (piecewise linear), a ±eps step
/// that straddles a kink makes the difference quotient wrong while the gradient is right, so
/// up to this fraction of the checked elements of each input may disagree; a wrong or missing
/// gradient path disagrees almost everywhere and still fails. Keep it 0 for single ops.
public func checkGradients(_ inputs: [Tensor], eps: Float = 1e-2, rtol: Float = 1e-2, atol: Float = 1e-3,
                           maxElements: Int = 200, kinkFraction: Double = 0, file: StaticString = #filePath, line: UInt = #line,
                           _ f: () throws -> Tensor) throws {
    for x in inputs { x.requiresGrad = true; x.grad = nil }
    let y = try f()
    var gen = SeededGenerator(seed: 99)
    let r = Tensor.uniform(y.shape, low: -1, high: 1, generator: &gen)
    let loss = try (y * r).sum()
    try loss.backward()
    func lossValue() throws -> Double {
        try withNoGrad {
            let out = try f()
            var acc = 0.0
            for i in 0..<out.count { acc += Double(out.pointer[i]) * Double(r.pointer[i]) }
            return acc
        }
    }
    for (which, x) in inputs.enumerated() {
        guard let grad = x.grad else {
            XCTFail("input \(which) of shape \(describe(x.shape)) received no gradient", file: file, line: line)
            continue
        }
        XCTAssertEqual(grad.shape, x.shape, "gradient shape of input \(which)", file: file, line: line)
        let step = max(1, x.count / maxElements)
        let checked = (x.count + step - 1) / step
        var disagreements: [String] = []
        for i in stride(from: 0, to: x.count, by: step) {
            let saved = x.pointer[i]
            x.pointer[i] = saved + eps
            let plus = try lossValue()
            x.pointer[i] = saved - eps
            let minus = try lossValue()
            x.pointer[i] = saved
            let numeric = Float((plus - minus) / Double(2 * eps))
            let analytic = grad.pointer[i]
            if !(abs(numeric - analytic) <= atol + rtol * abs(numeric)) {
                disagreements.append("element \(i): analytic \(analytic) vs numeric \(numeric)")
            }
        }
        if Double(disagreements.count) > kinkFraction * Double(checked) {
            XCTFail("input \(which) \(describe(x.shape)): \(disagreements.count) of \(checked) elements disagree, first \(disagreements[0])",
                    file: file, line: line)
        }
    }
}
