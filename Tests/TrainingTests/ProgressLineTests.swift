import Training
import XCTest

final class ProgressLineTests: XCTestCase {
    func testFinishedEpochReadsLikeKeras() {
        let line = ProgressLine.render(step: 938, total: 938, elapsed: 4.2,
                                       figures: [("loss", 0.21344), ("accuracy", 0.93521)])
        XCTAssertEqual(line, "938/938 [==============================] - 4s 4ms/step - loss: 0.2134 - accuracy: 0.9352")
    }

    func testPartialEpochShowsAnArrowAndPadsTheCounter() {
        // 1/4 of 30 columns done: 6 '=' then '>' then 23 '.'.
        let line = ProgressLine.render(step: 25, total: 100, elapsed: 0.5, figures: [("loss", 1)])
        XCTAssertEqual(line, " 25/100 [======>.......................] - 0s 20ms/step - loss: 1.0000")
    }

    func testSlowStepsAreShownInSeconds() {
        let line = ProgressLine.render(step: 2, total: 2, elapsed: 5, figures: [])
        XCTAssertEqual(line, "2/2 [==============================] - 5s 2s/step")
    }

    func testFirstStepBarIsAnArrowOnly() {
        let line = ProgressLine.render(step: 0, total: 10, elapsed: 0, figures: [])
        XCTAssertTrue(line.hasPrefix(" 0/10 [>.............................]"), line)
    }
}
