import Models
import NN
import TensorCore
import XCTest

/// What the registration cache saves: ResNet-50's parameters found by reflection over all
/// 150-odd layers, against the cached lists. Printed, not asserted (timings vary by machine).
final class RegistrationCostTests: XCTestCase {
    func testPrintsUncachedAgainstCachedWalk() throws {
        let model = try ResNet(.resnet50)
        let expected = model.namedParameters().map(\.name)
        let rounds = 20
        let clock = ContinuousClock()
        var uncached = Duration.zero, cached = Duration.zero
        for _ in 0..<rounds {
            uncached += clock.measure {
                model.invalidateRegistration()
                XCTAssertEqual(model.namedParameters().count, expected.count)
            }
            cached += clock.measure { XCTAssertEqual(model.namedParameters().count, expected.count) }
        }
        XCTAssertEqual(model.namedParameters().map(\.name), expected)
        print("ResNet-50 (\(model.allLayers.count) layers, \(expected.count) parameters): namedParameters() "
              + "uncached \(uncached / rounds), cached \(cached / rounds)")
    }
}
