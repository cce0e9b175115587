import XCTest
import TensorCore
import FoveaTestSupport

/// PReLU and batch norm on tensors large enough for their fast paths (eight-lane sums,
/// planes split over threads), against their definitions computed in Double.
final class NormalizationPathTests: XCTestCase {
    func testPReLUMatchesTheDefinition() throws {
        // [16, 6, 33, 33] is 104,544 values (split over threads); planes of 1089 leave tails.
        for (shape, perChannel) in [([16, 6, 33, 33], true), ([16, 6, 33, 33], false), ([70, 37], true), ([3, 5, 7], true)] {
            for threads in [1, 2] {
                try Parallel.withThreads(threads) {
                    let x = randomTensor(shape, seed: 3, requiresGrad: true)
                    let channels = shape[1], inner = shape.count > 2 ? shape[2...].reduce(1, *) : 1
                    let a = randomTensor([perChannel ? channels : 1], seed: 4, requiresGrad: true, low: 0, high: 0.5)
                    let dy = randomTensor(shape, seed: 5)
                    let y = try x.prelu(slope: a)
                    try (y * dy).sum().backward()
                    var ey = [Float](), edx = [Float](), eda = [Double](repeating: 0, count: a.count)
                    let av = a.values, dyv = dy.values
                    for (i, v) in x.values.enumerated() {
                        let c = perChannel ? (i / inner) % channels : 0, s = av[c], g = dyv[i]
                        ey.append(v > 0 ? v : s * v)
                        edx.append(v > 0 ? g : s * g)
                        if !(v > 0) { eda[c] += Double(g) * Double(v) }
                    }
                    let label = "\(shape) per channel \(perChannel), \(threads) threads"
                    XCTAssertEqual(y.values, ey, label)
                    XCTAssertEqual(x.grad!.values, edx, label)
                    assertClose(a.grad!.values, eda.map(Float.init), rtol: 1e-4, atol: 1e-3, label)
                }
            }
        }
    }

    func testTrainingBatchNormMatchesTheDefinition() throws {
        for shape in [[16, 6, 33, 33], [64, 20], [5, 3, 2, 3]] {
            for (threads, portable) in [(1, false), (2, false), (2, true)] {
                try Parallel.withThreads(threads) {
                    try onKernels(portable: portable) {
                    let x = randomTensor(shape, seed: 6, requiresGrad: true, low: -2, high: 3)
                    let C = shape[1], plane = shape.count == 4 ? shape[2] * shape[3] : 1, M = shape[0] * plane
                    let gamma = randomTensor([C], seed: 7, requiresGrad: true), beta = randomTensor([C], seed: 8, requiresGrad: true)
                    let rm = Tensor(zeros: [C]), rv = try Tensor(shape: [C], values: [Float](repeating: 1, count: C))
                    let dy = randomTensor(shape, seed: 9)
                    let y = try Tensor.batchNorm(x, weight: gamma, bias: beta, runningMean: rm, runningVar: rv, training: true)
                    try (y * dy).sum().backward()
                    // The definition, channel by channel, in Double.
                    var ey = [Double](repeating: 0, count: x.count), edx = ey
                    let xv = x.values, dyv = dy.values, gv = gamma.values, bv = beta.values
                    let rmv = rm.values, rvv = rv.values, dbeta = beta.grad!.values, dgamma = gamma.grad!.values
                    for c in 0..<C {
                        let idx = (0..<shape[0]).flatMap { n in (0..<plane).map { (n * C + c) * plane + $0 } }
                        let xs = idx.map { Double(xv[$0]) }, gs = idx.map { Double(dyv[$0]) }
                        let mu = xs.reduce(0, +) / Double(M)
                        let variance = xs.map { ($0 - mu) * ($0 - mu) }.reduce(0, +) / Double(M)
                        let invstd = 1 / (variance + 1e-5).squareRoot(), g = Double(gv[c])
                        let xh = xs.map { ($0 - mu) * invstd }
                        let sumDy = gs.reduce(0, +), sumDyXh = zip(gs, xh).map { $0 * $1 }.reduce(0, +)
                        for (k, i) in idx.enumerated() {
                            ey[i] = g * xh[k] + Double(bv[c])
                            edx[i] = g * invstd / Double(M) * (Double(M) * gs[k] - sumDy - xh[k] * sumDyXh)
                        }
                        XCTAssertEqual(Double(rmv[c]), 0.1 * mu, accuracy: 1e-5)
                        XCTAssertEqual(Double(rvv[c]), 0.9 + 0.1 * variance * Double(M) / Double(M - 1), accuracy: 1e-4)
                        XCTAssertEqual(Double(dbeta[c]), sumDy, accuracy: 1e-3 * max(1, abs(sumDy)))
                        XCTAssertEqual(Double(dgamma[c]), sumDyXh, accuracy: 1e-3 * max(1, abs(sumDyXh)))
                    }
                    let label = "\(shape), \(threads) threads\(portable ? ", portable" : "")"
                    assertClose(y.values, ey.map(Float.init), rtol: 1e-4, atol: 1e-4, label)
                    assertClose(x.grad!.values, edx.map(Float.init), rtol: 1e-3, atol: 1e-4, label)
                    }
                }
            }
        }
    }

    func testEvaluationBatchNormMatchesTheDefinition() throws {
        // Planes of 1089 (the row kernels, with tails) and [N, C] rows (the channel loops).
        for shape in [[4, 5, 33, 33], [64, 20]] {
            for portable in [false, true] {
                try onKernels(portable: portable) {
                    let x = randomTensor(shape, seed: 16, requiresGrad: true)
                    let C = shape[1], plane = shape.count == 4 ? shape[2] * shape[3] : 1
                    let gamma = randomTensor([C], seed: 17, requiresGrad: true), beta = randomTensor([C], seed: 18, requiresGrad: true)
                    let rm = randomTensor([C], seed: 19), rv = randomTensor([C], seed: 20, low: 0.5, high: 2)
                    let dy = randomTensor(shape, seed: 21)
                    let y = try Tensor.batchNorm(x, weight: gamma, bias: beta, runningMean: rm, runningVar: rv, training: false)
                    try (y * dy).sum().backward()
                    var ey = [Float](), edx = [Float](), edg = [Double](repeating: 0, count: C), edb = edg
                    let gv = gamma.values, bv = beta.values, rmv = rm.values, rvv = rv.values, dyv = dy.values
                    for (i, v) in x.values.enumerated() {
                        let c = (i / plane) % C, invstd = 1 / (Double(rvv[c]) + 1e-5).squareRoot()
                        let h = (Double(v) - Double(rmv[c])) * invstd
                        ey.append(Float(Double(gv[c]) * h + Double(bv[c])))
                        edx.append(Float(Double(gv[c]) * invstd * Double(dyv[i])))
                        edg[c] += Double(dyv[i]) * h
                        edb[c] += Double(dyv[i])
                    }
                    let label = "\(shape)\(portable ? ", portable" : "")"
                    assertClose(y.values, ey, rtol: 1e-4, atol: 1e-4, label)
                    assertClose(x.grad!.values, edx, rtol: 1e-4, atol: 1e-5, label)
                    assertClose(gamma.grad!.values, edg.map(Float.init), rtol: 1e-3, atol: 1e-3, label)
                    assertClose(beta.grad!.values, edb.map(Float.init), rtol: 1e-3, atol: 1e-3, label)
                    XCTAssertEqual(rm.values, try randomTensor([C], seed: 19).values, "evaluation leaves the running mean alone")
                }
            }
        }
    }

    func testBatchNormPReLUMatchesBatchNormThenPReLU() throws {
        // Planes of 81 (row kernels, with tails, split over threads), [N, C] and planes of 6
        // (channel kernels); shared and per-channel slopes; batch and running statistics.
        for shape in [[8, 6, 9, 9], [64, 20], [5, 3, 2, 3]] {
            for perChannel in [false, true] {
                for training in [true, false] {
                    for (threads, portable) in [(1, false), (2, false), (2, true)] {
                        try Parallel.withThreads(threads) {
                            try onKernels(portable: portable) {
                                let C = shape[1]
                                // Two copies of every input: one for the fused op, one for the two ops.
                                func inputs() -> (x: Tensor, gamma: Tensor, beta: Tensor, slope: Tensor, rm: Tensor, rv: Tensor) {
                                    (randomTensor(shape, seed: 31, requiresGrad: true, low: -2, high: 2),
                                     randomTensor([C], seed: 32, requiresGrad: true, low: 0.5, high: 1.5),
                                     randomTensor([C], seed: 33, requiresGrad: true, low: -0.5, high: 0.5),
                                     randomTensor([perChannel ? C : 1], seed: 34, requiresGrad: true, low: 0.05, high: 0.5),
                                     randomTensor([C], seed: 35), randomTensor([C], seed: 36, low: 0.5, high: 2))
                                }
                                let dy = randomTensor(shape, seed: 37)
                                let f = inputs(), u = inputs()
                                let fused = try Tensor.batchNormPReLU(f.x, weight: f.gamma, bias: f.beta, runningMean: f.rm,
                                                                      runningVar: f.rv, training: training, slope: f.slope)
                                try (fused * dy).sum().backward()
                                let unfused = try Tensor.batchNorm(u.x, weight: u.gamma, bias: u.beta, runningMean: u.rm,
                                                                   runningVar: u.rv, training: training).prelu(slope: u.slope)
                                try (unfused * dy).sum().backward()
                                let label = "\(shape), per channel \(perChannel), training \(training), \(threads) threads\(portable ? ", portable" : "")"
                                XCTAssertGreaterThan(unfused.values.filter { $0 < 0 }.count, shape.reduce(1, *) / 10,
                                                     "the PReLU's negative side is exercised: \(label)")
                                assertClose(fused.values, unfused.values, rtol: 1e-6, atol: 1e-6, label)
                                assertClose(f.x.grad!.values, u.x.grad!.values, rtol: 1e-5, atol: 1e-5, label)
                                assertClose(f.gamma.grad!.values, u.gamma.grad!.values, rtol: 1e-5, atol: 1e-5, label)
                                assertClose(f.beta.grad!.values, u.beta.grad!.values, rtol: 1e-5, atol: 1e-5, label)
                                assertClose(f.slope.grad!.values, u.slope.grad!.values, rtol: 1e-4, atol: 1e-4, label)
                                XCTAssertEqual(f.rm.values, u.rm.values, label)
                                XCTAssertEqual(f.rv.values, u.rv.values, label)
                            }
                        }
                    }
                }
            }
        }
    }
}

/// `body` on the portable kernels when `portable`, on the machine's best otherwise.
private func onKernels<T>(portable: Bool, _ body: () throws -> T) rethrows -> T {
    portable ? try GEMM.withPortableKernels(body) : try body()
}
