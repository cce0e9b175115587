import XCTest
import TensorCore
import FoveaTestSupport

/// The worked examples of the course notes (shared/seeds), as tests.
final class SeedExampleTests: XCTestCase {
    /// Seeds 000 and 003: the 6x6 binary image and its two 3x3 filters.
    let image: [Float] = [1, 0, 0, 0, 0, 1,
                          0, 1, 0, 0, 1, 0,
                          0, 0, 1, 1, 0, 0,
                          1, 0, 0, 0, 1, 0,
                          0, 1, 0, 0, 1, 0,
                          0, 0, 1, 0, 1, 0]
    let filter1: [Float] = [1, -1, -1, -1, 1, -1, -1, -1, 1]
    let filter2: [Float] = [-1, 1, -1, -1, 1, -1, -1, 1, -1]

    func testSixBySixImageWithFilter1StrideOne() throws {
        let x = try Tensor(shape: [1, 1, 6, 6], values: image)
        let w = try Tensor(shape: [1, 1, 3, 3], values: filter1)
        let y = try Tensor.conv2d(x, weight: w)
        // Dot products worked out by hand, as on the slides: a 4x4 feature map whose
        // largest values (3) mark the diagonal pattern at the top-left and bottom-left.
        assertTensor(y, shape: [1, 1, 4, 4], [3, -1, -3, -1,
                                              -3, 1, 0, -3,
                                              -3, -3, 0, 1,
                                              3, -2, -2, -1])
    }

    func testSixBySixImageWithFilter1StrideTwo() throws {
        let x = try Tensor(shape: [1, 1, 6, 6], values: image)
        let w = try Tensor(shape: [1, 1, 3, 3], values: filter1)
        let y = try Tensor.conv2d(x, weight: w, stride: 2)
        assertTensor(y, shape: [1, 1, 2, 2], [3, -3, -3, 0])
    }

    func testTwoFiltersGiveAFeatureMapEach() throws {
        let x = try Tensor(shape: [1, 1, 6, 6], values: image)
        let w = try Tensor(shape: [2, 1, 3, 3], values: filter1 + filter2)
        let y = try Tensor.conv2d(x, weight: w)
        XCTAssertEqual(y.shape, [1, 2, 4, 4])
        assertClose(Array(y.values[16...]), [-1, -1, -1, -1, -1, -1, -2, 1, -1, -1, -2, 1, -1, 0, -4, 3])
    }

    /// Seed 002: x = [3 2 1 7 1 2 5 4] convolved with w = [1/2 3/4 1 1/4] (rotated to
    /// [1/4 1 3/4 1/2]), moving by 2 cells, gives [7 9 8].
    func testOneDimensionalStrideTwoConvolution() throws {
        let x = try Tensor(shape: [1, 1, 1, 8], values: [3, 2, 1, 7, 1, 2, 5, 4])
        let w = try Tensor(shape: [1, 1, 1, 4], values: [0.5, 0.75, 1, 0.25])
        let y = try Tensor.trueConvolution2d(x, kernel: w, stride: Size2D(1, 2))
        assertTensor(y, shape: [1, 1, 1, 3], [7, 9, 8])
        // Cross-correlation with the rotated kernel is the same thing (seed 001's point).
        let rotated = try Tensor(shape: [1, 1, 1, 4], values: [0.25, 1, 0.75, 0.5])
        assertTensor(try Tensor.conv2d(x, weight: rotated, stride: Size2D(1, 2)), shape: [1, 1, 1, 3], [7, 9, 8])
    }

    /// Seed 002: 2x2 max pooling of X1.
    func testMaxPoolingExample() throws {
        let x1: [Float] = [10, 255, 125, 0, 170, 100,
                           70, 255, 105, 25, 25, 70,
                           255, 0, 150, 0, 10, 10,
                           0, 255, 10, 10, 150, 20,
                           70, 15, 200, 100, 95, 0,
                           35, 25, 100, 20, 0, 60]
        let y = try Tensor.maxPool2d(try Tensor(shape: [1, 1, 6, 6], values: x1), kernel: 2)
        assertTensor(y, shape: [1, 1, 3, 3], [255, 125, 170, 255, 150, 150, 70, 200, 95])
    }

    /// Seed 003: a 2x2 window holding 3, -1, -3, 1 pools to 3.
    func testSingleWindowMaxPool() throws {
        let y = try Tensor.maxPool2d(try Tensor(shape: [1, 1, 2, 2], values: [3, -1, -3, 1]), kernel: 2)
        assertTensor(y, shape: [1, 1, 1, 1], [3])
    }

    /// Seeds 000-002: output size `floor((W - F + 2P) / S) + 1` for the cases they list.
    func testOutputSizeFormula() throws {
        // (W, F, P, S) -> size
        let cases: [(Int, Int, Int, Int, Int)] = [
            (6, 3, 0, 1, 4),    // seed 000: S=1, W=6, F=3, P=0
            (6, 3, 1, 1, 6),    // seed 000: S=1, W=6, F=3, P=1
            (6, 3, 0, 2, 2),    // seed 003: the 6x6 image with stride 2
            (8, 4, 0, 2, 3),    // seed 002: the 1-D example
            (5, 3, 1, 2, 3),    // seed 000: K=2 filters, F=3, S=2, P=1 on a 5x5 input
            (32, 5, 0, 1, 28),  // seed 000: LeNet's first layer on 32x32
            (28, 5, 2, 1, 28),  // LeNet-5 on MNIST: padding 2 keeps 28
            (227, 11, 0, 4, 55), // AlexNet's first layer
            (224, 3, 1, 1, 224), // VGG: 3x3, stride 1, pad 1
            (10, 3, 0, 2, 4),   // seed 001's warning case: (10-3)/2 is not an integer, floor gives 4
        ]
        for (w, f, p, s, expected) in cases {
            XCTAssertEqual(convolutionOutputSize(input: w, kernel: f, stride: s, padBefore: p, padAfter: p), expected, "W=\(w) F=\(f) P=\(p) S=\(s)")
            // And the convolution itself produces that size.
            let x = Tensor(zeros: [1, 1, w, w])
            let k = Tensor(zeros: [1, 1, f, f])
            let y = try Tensor.conv2d(x, weight: k, stride: Size2D(s, s), padding: .uniform(p))
            XCTAssertEqual(y.shape, [1, 1, expected, expected], "conv2d W=\(w) F=\(f) P=\(p) S=\(s)")
        }
    }

    /// Seed 002's padding modes on the 1-D example: full, same and valid.
    func testPaddingModesOnTheOneDimensionalExample() throws {
        let x = try Tensor(shape: [1, 1, 1, 8], values: [3, 2, 1, 7, 1, 2, 5, 4])
        let w = try Tensor(shape: [1, 1, 1, 4], values: [0.5, 0.75, 1, 0.25])
        let full = try Tensor.trueConvolution2d(x, kernel: w, padding: .explicit(top: 0, bottom: 0, left: 3, right: 3))
        // Reference: numpy.convolve(x, w, 'full') and 'valid' (NumPy 2.4 on this machine).
        assertTensor(full, shape: [1, 1, 1, 11], [1.5, 3.25, 5, 7, 7.25, 9, 6.75, 8, 8.5, 5.25, 1])
        let valid = try Tensor.trueConvolution2d(x, kernel: w)
        XCTAssertEqual(valid.shape, [1, 1, 1, 5])
        assertClose(valid.values, [7, 7.25, 9, 6.75, 8])
        let same = try Tensor.conv2d(Tensor(zeros: [1, 1, 7, 9]), weight: Tensor(zeros: [1, 1, 3, 4]), padding: .same)
        XCTAssertEqual(same.shape, [1, 1, 7, 9])
        let fullShape = try Tensor.conv2d(Tensor(zeros: [1, 1, 7, 9]), weight: Tensor(zeros: [1, 1, 3, 4]), padding: .full)
        XCTAssertEqual(fullShape.shape, [1, 1, 9, 12])
    }
}
