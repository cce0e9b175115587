import Foundation
import FoveaTestSupport
import Optimizers
import TensorCore
import XCTest

/// Every optimizer against PyTorch 2.15's parameter trajectory over 10 steps, and the
/// schedules against its schedulers (recorded by `Golden/make_optimizer_golden.py`).
final class OptimizerGoldenTests: XCTestCase {
    struct Golden: Decodable {
        var X: [Float], y: [Float], w0: [Float], b0: [Float]
        var trajectories: [String: [[Float]]]
        var schedules: [String: [Float]]
        var plateau_metrics: [Double]
    }

    static let golden: Golden? = {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden/optimizer_golden.json")
        return (try? Data(contentsOf: url)).flatMap { try? JSONDecoder().decode(Golden.self, from: $0) }
    }()

    /// Runs 10 steps of mean((X w + b - y)^2) and compares [w, b] after each with PyTorch's.
    func check(_ name: String, clipNorm: Float? = nil, file: StaticString = #filePath, line: UInt = #line,
               _ make: ([Tensor]) throws -> Optimizer) throws {
        let g = try XCTUnwrap(Self.golden, "Golden/optimizer_golden.json is missing")
        let expected = try XCTUnwrap(g.trajectories[name], "no trajectory \(name)")
        let X = try Tensor(shape: [8, 3], values: g.X), y = try Tensor(shape: [8, 1], values: g.y)
        let w = try Tensor(shape: [3], values: g.w0, requiresGrad: true)
        let b = try Tensor(shape: [1], values: g.b0, requiresGrad: true)
        let optimizer = try make([w, b])
        for (step, row) in expected.enumerated() {
            optimizer.zeroGrad()
            let prediction = try X.matmul(w.reshaped([3, 1])) + b
            try (prediction - y).squared().mean().backward()
            if let clipNorm { try GradientClipping.clipNorm([w, b], maxNorm: clipNorm) }
            optimizer.step()
            assertClose(w.values + b.values, row, rtol: 1e-5, atol: 1e-6, "\(name) step \(step + 1)", file: file, line: line)
        }
    }

    func testSGD() throws {
        try check("sgd") { try SGD(parameters: $0, learningRate: 0.1) }
        try check("sgd_momentum") { try SGD(parameters: $0, learningRate: 0.05, momentum: 0.9) }
        try check("sgd_nesterov_decay") { try SGD(parameters: $0, learningRate: 0.05, momentum: 0.9, weightDecay: 0.01, nesterov: true) }
        try check("sgd_clip_norm", clipNorm: 0.5) { try SGD(parameters: $0, learningRate: 0.1) }
        try check("sgd_groups") { p in
            try SGD(groups: [ParameterGroup([p[0]]), ParameterGroup([p[1]], learningRate: 0.01, momentum: 0.5)],
                    learningRate: 0.1, momentum: 0.9)
        }
    }

    func testAdaGrad() throws {
        try check("adagrad") { try AdaGrad(parameters: $0, learningRate: 0.3) }
        try check("adagrad_decay") { try AdaGrad(parameters: $0, learningRate: 0.3, learningRateDecay: 0.1, weightDecay: 0.05) }
    }

    func testRMSProp() throws {
        try check("rmsprop") { try RMSProp(parameters: $0, learningRate: 0.01) }
        try check("rmsprop_centered_momentum") {
            try RMSProp(parameters: $0, learningRate: 0.01, weightDecay: 0.02, momentum: 0.5, centered: true)
        }
    }

    func testAdamAndAdamW() throws {
        try check("adam") { try Adam(parameters: $0, learningRate: 0.1) }
        try check("adam_amsgrad_decay") {
            try Adam(parameters: $0, learningRate: 0.1, beta1: 0.8, beta2: 0.99, weightDecay: 0.1, amsgrad: true)
        }
        try check("adamw") { try Adam.adamW(parameters: $0, learningRate: 0.1, weightDecay: 0.1) }
    }

    func testParameterGroups() throws {
        try check("adam_groups") { p in
            try Adam(groups: [ParameterGroup([p[0]]), ParameterGroup([p[1]], learningRate: 0.01, weightDecay: 0.1)], learningRate: 0.1)
        }
        try check("rmsprop_groups") { p in
            try RMSProp(groups: [ParameterGroup([p[0]]), ParameterGroup([p[1]], learningRate: 0.05, momentum: 0.5)], learningRate: 0.01)
        }
        try check("adagrad_groups") { p in
            try AdaGrad(groups: [ParameterGroup([p[0]], weightDecay: 0.2), ParameterGroup([p[1]], learningRate: 0.05)], learningRate: 0.3)
        }
    }

    /// Warm-up then cosine (no PyTorch scheduler does exactly this; checked against its formula).
    func testWarmupCosine() {
        let s = LearningRateSchedule.warmupCosine(warmupSteps: 4, minimum: 0)
        let rates = (0..<12).map { s.rate(base: 1, step: $0, totalSteps: 12) }
        assertClose(Array(rates[0..<4]), [0.25, 0.5, 0.75, 1])
        assertClose([rates[4], rates[8]], [1, Float((1 + cos(Double.pi / 2)) / 2)], rtol: 1e-6, atol: 1e-7)
        XCTAssertEqual(rates.max(), 1)
        XCTAssertEqual(try LearningRateSchedule(parsing: "cosine:4"), s)
    }

    func testSchedulesMatchPyTorchSchedulers() throws {
        let g = try XCTUnwrap(Self.golden)
        let cases: [(String, LearningRateSchedule)] = [
            ("step", .stepDecay(every: 3, gamma: 0.5)),
            ("multistep", .multiStep(milestones: [2, 5, 7], gamma: 0.1)),
            ("exponential", .exponential(gamma: 0.9)),
            ("cosine", .cosine(minimum: 0.001)),
            ("onecycle", .oneCycle(pctStart: 0.3, divFactor: 25, finalDivFactor: 1e4)),
        ]
        for (name, schedule) in cases {
            let expected = try XCTUnwrap(g.schedules[name])
            let mine = (0..<expected.count).map { schedule.rate(base: 0.1, step: $0, totalSteps: expected.count) }
            assertClose(mine, expected, rtol: 1e-5, atol: 1e-9, name)
        }
    }

    func testReduceOnPlateauMatchesPyTorch() throws {
        let g = try XCTUnwrap(Self.golden)
        let expected = try XCTUnwrap(g.schedules["plateau"])
        let reducer = try ReduceLROnPlateau(mode: .max, factor: 0.1, patience: 2)
        var rates: [Float] = []
        for metric in g.plateau_metrics {
            rates.append(0.1 * reducer.scale)
            reducer.step(metric)
        }
        assertClose(rates, expected, rtol: 1e-6, atol: 1e-9)
    }

    func testSeedAdaGradFormPutsEpsilonInsideTheRoot() throws {
        // One weight, gradient 2 on every step (loss 2w): n = 4, 8; steps η g / √(n + ε).
        let w = Tensor([1], requiresGrad: true)
        let optimizer = try AdaGrad(parameters: [w], learningRate: 0.5, eps: 1, epsilonInsideRoot: true)
        var expected: Float = 1
        for n in [4, 8] as [Float] {
            optimizer.zeroGrad()
            try w.affine(scale: 2, shift: 0).sum().backward()
            optimizer.step()
            expected -= 0.5 * 2 / (n + 1).squareRoot()
            XCTAssertEqual(w.values[0], expected, accuracy: 1e-6)
        }
        // PyTorch's form differs: η g / (√n + ε).
        let v = Tensor([1], requiresGrad: true)
        let torchForm = try AdaGrad(parameters: [v], learningRate: 0.5, eps: 1)
        try v.affine(scale: 2, shift: 0).sum().backward()
        torchForm.step()
        XCTAssertEqual(v.values[0], 1 - 0.5 * 2 / (2 + 1), accuracy: 1e-6)
    }

    func testBadSettingsAreRefusedWithTheValue() {
        let p = [Tensor([1], requiresGrad: true)]
        let attempts: [(String, () throws -> Any)] = [
            ("-0.1", { try SGD(parameters: p, learningRate: -0.1) }),
            ("1.0", { try SGD(parameters: p, learningRate: 0.1, momentum: 1) }),
            ("-0.5", { try SGD(parameters: p, learningRate: 0.1, weightDecay: -0.5) }),
            ("1.0", { try Adam(parameters: p, beta1: 1) }),
            ("0.0", { try Adam(parameters: p, eps: 0) }),
            ("nan", { try AdaGrad(parameters: p, learningRate: .nan) }),
            ("1.5", { try RMSProp(parameters: p, momentum: 1.5) }),
            ("0.0", { try GradientClipping.clipNorm(p, maxNorm: 0) }),
            ("2.0", { try ReduceLROnPlateau(factor: 2) }),
            ("'nadam'", { try OptimizerKind(named: "nadam") }),
        ]
        for (needle, attempt) in attempts {
            XCTAssertThrowsError(try attempt()) { error in
                XCTAssertTrue("\(error)".contains(needle), "'\(error)' should quote \(needle)")
            }
        }
    }

    func testClipValueClampsEveryElement() throws {
        let p = Tensor([1, 2, 3], requiresGrad: true)
        p.grad = Tensor([-5, 0.5, 7])
        try GradientClipping.clipValue([p], clipValue: 1)
        XCTAssertEqual(p.grad?.values, [-1, 0.5, 1])
        p.grad = Tensor([3, 4, 0])
        let norm = try GradientClipping.clipNorm([p], maxNorm: 1)
        XCTAssertEqual(norm, 5)
        assertClose(p.grad!.values, [0.6, 0.8, 0], rtol: 1e-5)
    }
}
