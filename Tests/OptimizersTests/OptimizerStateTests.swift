import FoveaTestSupport
import NN
import Optimizers
import TensorCore
import XCTest

/// Saving an optimizer's state and restoring it into a fresh optimizer continues the run
/// exactly (what `fovea train --resume` relies on).
final class OptimizerStateTests: XCTestCase {
    /// A small regression problem; returns the parameters after `steps` steps.
    func run(_ make: ([Tensor]) throws -> Optimizer, steps: Int, interruptAt: Int?, restore: Bool = true) throws -> [[Float]] {
        GlobalRandom.seed(9)
        let model = try Sequential(Dense(4, 6), Tanh(), Dense(6, 2))
        var g = SeededGenerator(seed: 10)
        let x = Tensor.normal([16, 4], generator: &g), y = Tensor.normal([16, 2], generator: &g)
        var optimizer = try make(model.parameters)
        for step in 0..<steps {
            if step == interruptAt {
                // Save, throw the optimizer away, build a new one and restore.
                let saved = optimizer.stateDict().map { ($0.name, $0.tensor) }
                optimizer = try make(model.parameters)
                if restore { try optimizer.loadStateDict(Dictionary(saved, uniquingKeysWith: { a, _ in a })) }
            }
            let loss = try Tensor.mseLoss(model(x), y)
            optimizer.zeroGrad()
            try loss.backward()
            optimizer.step()
        }
        return model.parameters.map(\.values)
    }

    func testRestoredStateContinuesExactly() throws {
        let makers: [(String, ([Tensor]) throws -> Optimizer)] = [
            ("sgd momentum", { try SGD(parameters: $0, learningRate: 0.05, momentum: 0.9, nesterov: true) }),
            ("adam", { try Adam(parameters: $0, learningRate: 0.01) }),
            ("amsgrad", { try Adam(parameters: $0, learningRate: 0.01, amsgrad: true) }),
            ("adamw", { try Adam.adamW(parameters: $0, learningRate: 0.01) }),
            ("rmsprop", { try RMSProp(parameters: $0, learningRate: 0.01, momentum: 0.5, centered: true) }),
            ("adagrad", { try AdaGrad(parameters: $0, learningRate: 0.1, learningRateDecay: 0.01) }),
        ]
        for (name, make) in makers {
            let whole = try run(make, steps: 12, interruptAt: nil)
            let resumed = try run(make, steps: 12, interruptAt: 7)
            XCTAssertEqual(whole, resumed, name)
            // Restarting without the state changes the result: the state is what carries the run.
            let forgetful = try run(make, steps: 12, interruptAt: 7, restore: false)
            XCTAssertNotEqual(forgetful, whole, "\(name): a fresh optimizer takes other steps")
        }
    }

    func testStateNamesFollowPyTorch() throws {
        let w = Tensor(zeros: [2], requiresGrad: true), b = Tensor(zeros: [1], requiresGrad: true)
        let adam = try Adam(parameters: [w, b], learningRate: 0.1)
        XCTAssertEqual(adam.stateDict().map(\.name), [], "no state before the first step")
        w.grad = Tensor(repeating: 1, shape: [2]); b.grad = Tensor(repeating: 1, shape: [1])
        adam.step()
        XCTAssertEqual(adam.stateDict().map(\.name), ["step", "0.exp_avg", "1.exp_avg", "0.exp_avg_sq", "1.exp_avg_sq"])
        XCTAssertEqual(adam.stateDict().first?.tensor.values, [1])
        let sgd = try SGD(parameters: [w, b], learningRate: 0.1, momentum: 0.9)
        sgd.step()
        XCTAssertEqual(sgd.stateDict().map(\.name), ["0.momentum_buffer", "1.momentum_buffer"])
    }

    func testMismatchedStateIsRefusedAndChangesNothing() throws {
        let w = Tensor(zeros: [2], requiresGrad: true)
        let sgd = try SGD(parameters: [w], learningRate: 0.1, momentum: 0.9)
        XCTAssertThrowsError(try sgd.loadStateDict(["0.momentum_buffer": Tensor(zeros: [3])])) {
            XCTAssertTrue("\($0)".contains("[3]") && "\($0)".contains("[2]"), "\($0)")
        }
        XCTAssertThrowsError(try sgd.loadStateDict(["0.exp_avg": Tensor(zeros: [2])])) {
            XCTAssertTrue("\($0)".contains("unexpected entry '0.exp_avg'"), "\($0)")
        }
        XCTAssertEqual(sgd.stateDict().count, 0)
        let adam = try Adam(parameters: [w])
        XCTAssertThrowsError(try adam.loadStateDict(["step": Tensor(repeating: 1.5, shape: [1])])) {
            XCTAssertTrue("\($0)".contains("whole number"), "\($0)")
        }
        // Issue 29 finding 6: an infinite step passed the whole-number check and trapped in Int().
        XCTAssertThrowsError(try adam.loadStateDict(["step": Tensor(repeating: .infinity, shape: [1])])) {
            XCTAssertTrue("\($0)".contains("whole number") && "\($0)".contains("inf"), "\($0)")
        }
    }

    /// Issue 29 finding 6: counts from a resumed checkpoint that are NaN or infinite trapped
    /// converting to Int; they are refused, quoted.
    func testNonFinitePlateauStateIsRefused() throws {
        let reducer = try ReduceLROnPlateau(patience: 2)
        for (bad, cooldown) in [(Double.nan, 0.0), (0, .infinity), (-1, 0)] {
            XCTAssertThrowsError(try reducer.restore(["scale": 1, "bad_epochs": bad, "cooldown_left": cooldown])) {
                XCTAssertTrue("\($0)".contains("bad_epochs \(bad)"), "\($0)")
            }
        }
        try reducer.restore(["scale": 0.5, "bad_epochs": 1, "cooldown_left": 0])
    }
}
