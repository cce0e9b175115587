import Foundation
import Optimizers
import XCTest

final class LearningRateScheduleTests: XCTestCase {
    func testConstant() {
        XCTAssertEqual(LearningRateSchedule.constant.rate(base: 0.1, step: 57, totalSteps: 100), 0.1)
    }

    func testCosineEndsAndMidpoint() {
        let s = LearningRateSchedule.cosine(minimum: 0.01)
        XCTAssertEqual(s.rate(base: 0.1, step: 0, totalSteps: 100), 0.1, accuracy: 1e-7)
        XCTAssertEqual(s.rate(base: 0.1, step: 50, totalSteps: 100), 0.055, accuracy: 1e-7)
        XCTAssertEqual(s.rate(base: 0.1, step: 100, totalSteps: 100), 0.01, accuracy: 1e-7)
        // PyTorch CosineAnnealingLR(T_max=8, eta_min=0) from 1.0 after 2 steps: (1 + cos(π/4)) / 2.
        XCTAssertEqual(LearningRateSchedule.cosine(minimum: 0).rate(base: 1, step: 2, totalSteps: 8),
                       Float((1 + cos(Double.pi / 4)) / 2), accuracy: 1e-7)
    }

    func testStepDecay() {
        let s = LearningRateSchedule.stepDecay(every: 10, gamma: 0.5)
        XCTAssertEqual(s.rate(base: 0.8, step: 9, totalSteps: 100), 0.8)
        XCTAssertEqual(s.rate(base: 0.8, step: 10, totalSteps: 100), 0.4)
        XCTAssertEqual(s.rate(base: 0.8, step: 35, totalSteps: 100), 0.1)
    }

    func testParsing() throws {
        XCTAssertEqual(try LearningRateSchedule(parsing: "cosine"), .cosine(minimum: 0))
        XCTAssertEqual(try LearningRateSchedule(parsing: "Constant"), .constant)
        XCTAssertEqual(try LearningRateSchedule(parsing: "step:100:0.1"), .stepDecay(every: 100, gamma: 0.1))
        for bad in ["linear", "step:0:0.1", "step:10", "step:10:-1", ""] {
            XCTAssertThrowsError(try LearningRateSchedule(parsing: bad), bad) { error in
                XCTAssertTrue("\(error)".contains("schedule"), "\(error)")
            }
        }
    }
}
