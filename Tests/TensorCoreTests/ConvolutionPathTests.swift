import XCTest
import TensorCore
import FoveaTestSupport

/// The convolution's and pooling's fast paths (per-image GEMMs into NCHW for large planes,
/// no im2col for pointwise convolutions, batched rounds for small planes, the AVX2 row
/// kernels of im2col / col2im, the implicit columns and 2x2 max pooling) against direct definitions computed in
/// Double, forward and backward, on the AVX2 and the portable kernels, on 1 and 2 threads,
/// for `conv2d` and the fused `conv2dReLU`.
final class ConvolutionPathTests: XCTestCase {
    struct Case {
        var n, c, h, w, cout, k: Int
        var stride: Size2D = 1, padding: Padding = .valid, dilation: Size2D = 1, groups = 1
    }

    /// `y = conv(x, w) + b`, `dx = Σ dy·w`, `dw = Σ dy·x`, `db = Σ dy`, by the definition.
    func reference(_ x: Tensor, _ w: Tensor, _ b: Tensor, _ dy: Tensor, _ geo: ConvGeometry)
        -> (y: [Float], dx: [Float], dw: [Float], db: [Float]) {
        let cg = geo.groupChannels, cog = geo.groupOutChannels
        var y = [Double](repeating: 0, count: dy.count), dx = [Double](repeating: 0, count: x.count)
        var dw = [Double](repeating: 0, count: w.count), db = [Double](repeating: 0, count: b.count)
        let xv = x.values, wv = w.values, dyv = dy.values
        for n in 0..<geo.batch { for o in 0..<geo.outChannels {
            let grp = o / cog
            for i in 0..<geo.outHeight { for j in 0..<geo.outWidth {
                let yi = ((n * geo.outChannels + o) * geo.outHeight + i) * geo.outWidth + j
                var acc = Double(b.values[o])
                let g = Double(dyv[yi])
                db[o] += g
                for c in 0..<cg { for p in 0..<geo.kernel.h { for q in 0..<geo.kernel.w {
                    let ih = i * geo.stride.h - geo.padTop + p * geo.dilation.h
                    let iw = j * geo.stride.w - geo.padLeft + q * geo.dilation.w
                    guard ih >= 0, ih < geo.height, iw >= 0, iw < geo.width else { continue }
                    let xi = ((n * geo.channels + grp * cg + c) * geo.height + ih) * geo.width + iw
                    let wi = ((o * cg + c) * geo.kernel.h + p) * geo.kernel.w + q
                    acc += Double(xv[xi]) * Double(wv[wi])
                    dx[xi] += g * Double(wv[wi])
                    dw[wi] += g * Double(xv[xi])
                }}}
                y[yi] = acc
            }}
        }}
        return (y.map(Float.init), dx.map(Float.init), dw.map(Float.init), db.map(Float.init))
    }

    let cases: [Case] = [
        // LeNet-5's first layer: 784-wide planes go image by image; padding 2 cuts rows.
        Case(n: 3, c: 1, h: 28, w: 28, cout: 6, k: 5, padding: .uniform(2)),
        // Pointwise with planes of 289: no im2col; also grouped.
        Case(n: 2, c: 8, h: 17, w: 17, cout: 5, k: 1),
        Case(n: 2, c: 6, h: 16, w: 19, cout: 4, k: 1, groups: 2),
        // Stride 2 on a large plane (20 x 19): strided rows, image by image.
        Case(n: 2, c: 3, h: 40, w: 37, cout: 7, k: 3, stride: 2, padding: .uniform(1)),
        // Small planes (10 x 10): batched rounds with gather and scatter.
        Case(n: 5, c: 6, h: 14, w: 14, cout: 16, k: 5),
        // A pointwise stride-2 shortcut on a small plane, and dilation with odd widths.
        Case(n: 4, c: 5, h: 9, w: 9, cout: 6, k: 1, stride: 2),
        Case(n: 2, c: 2, h: 23, w: 29, cout: 3, k: 3, padding: .explicit(top: 2, bottom: 0, left: 3, right: 1), dilation: 2),
    ]

    /// Stride-1 shapes for the direct kernels' edges: rows that are not a multiple of the
    /// 6-row (forward) or 4-row (weight gradient) tiles, taps not a multiple of 3, wide
    /// rows not a multiple of 16 or 8, groups, dilation, uneven padding, and a batch of 40
    /// that takes several rounds on each thread.
    let directCases: [Case] = [
        Case(n: 2, c: 3, h: 11, w: 13, cout: 7, k: 3, padding: .uniform(1)),
        Case(n: 3, c: 4, h: 9, w: 10, cout: 2, k: 2, padding: .explicit(top: 0, bottom: 1, left: 2, right: 0)),
        Case(n: 2, c: 6, h: 12, w: 12, cout: 9, k: 3, padding: .uniform(2), dilation: 2, groups: 3),
        Case(n: 40, c: 6, h: 14, w: 14, cout: 16, k: 5),
        Case(n: 2, c: 20, h: 12, w: 12, cout: 50, k: 5),
    ]

    /// Unpadded stride-1 shapes for the implicit columns: output rows of 8 (each 8-column
    /// run one row: loads and 8x8 transposes), of 10, 7 and 3 (runs that cross rows and
    /// images: gathers), column and patch counts that are not multiples of 16 or 8, more
    /// than 144 output channels (two A panels), a patch deeper than one 256 block, 1 x 3
    /// kernels, groups, and a batch of 40 in several rounds per thread.
    let implicitCases: [Case] = [
        Case(n: 3, c: 20, h: 12, w: 12, cout: 50, k: 5),
        Case(n: 40, c: 3, h: 12, w: 12, cout: 5, k: 3),
        Case(n: 3, c: 4, h: 9, w: 11, cout: 150, k: 2),
        Case(n: 2, c: 30, h: 7, w: 7, cout: 7, k: 3),
        Case(n: 5, c: 6, h: 5, w: 5, cout: 4, k: 3, groups: 2),
    ]

    /// 3x3 stride-1 shapes for Winograd F(2x2, 3x3): odd output planes (half tiles at the
    /// right and bottom), uneven padding, no padding, more than 256 input channels (two
    /// depth blocks of the packed kernels), more than 144 output channels and several tile
    /// blocks with rows of more than 8 tiles, output channels that are not a multiple of 6,
    /// and padding 3, whose input gradient is not Winograd's.
    let winogradCases: [Case] = [
        Case(n: 2, c: 16, h: 9, w: 11, cout: 17, k: 3, padding: .uniform(1)),
        Case(n: 1, c: 5, h: 12, w: 19, cout: 7, k: 3, padding: .explicit(top: 2, bottom: 0, left: 0, right: 2)),
        Case(n: 3, c: 20, h: 6, w: 7, cout: 13, k: 3),
        Case(n: 2, c: 300, h: 5, w: 5, cout: 8, k: 3, padding: .uniform(1)),
        Case(n: 1, c: 6, h: 34, w: 37, cout: 150, k: 3, padding: .uniform(1)),
        Case(n: 1, c: 4, h: 5, w: 6, cout: 5, k: 3, padding: .uniform(3)),
    ]

    /// Checks `conv2d`, or with `relu` the fused `conv2dReLU` against `max(0, conv)` with
    /// the incoming gradient masked where the reference output is not positive.
    func check(_ c: Case, relu: Bool = false, label: String) throws {
        let x = randomTensor([c.n, c.c, c.h, c.w], seed: UInt64(c.h * 31 + c.w), requiresGrad: true)
        let w = randomTensor([c.cout, c.c / c.groups, c.k, c.k], seed: UInt64(c.cout * 7 + c.k), requiresGrad: true)
        let b = randomTensor([c.cout], seed: 9, requiresGrad: true)
        let geo = try Tensor.convolutionGeometry(input: x.shape, weight: w.shape, stride: c.stride, padding: c.padding,
                                                 dilation: c.dilation, groups: c.groups)
        let dy = randomTensor([c.n, c.cout, geo.outHeight, geo.outWidth], seed: 11)
        let y = relu
            ? try Tensor.conv2dReLU(x, weight: w, bias: b, stride: c.stride, padding: c.padding, dilation: c.dilation,
                                    groups: c.groups)
            : try Tensor.conv2d(x, weight: w, bias: b, stride: c.stride, padding: c.padding, dilation: c.dilation,
                                groups: c.groups)
        try (y * dy).sum().backward()
        var ref = reference(x, w, b, dy, geo)
        if relu {
            let raw = ref.y
            let masked = try Tensor(shape: dy.shape, values: zip(dy.values, raw).map { $1 > 0 ? $0 : 0 })
            ref = reference(x, w, b, masked, geo)
            ref.y = raw.map { Swift.max($0, 0) }
        }
        let what = "\(label)\(relu ? ", conv2dReLU" : "") \(c)"
        assertClose(y.values, ref.y, rtol: 1e-4, atol: 1e-4, "y, \(what)")
        assertClose(x.grad!.values, ref.dx, rtol: 1e-4, atol: 1e-4, "dx, \(what)")
        assertClose(w.grad!.values, ref.dw, rtol: 1e-4, atol: 1e-4, "dw, \(what)")
        assertClose(b.grad!.values, ref.db, rtol: 1e-4, atol: 1e-4, "db, \(what)")
    }

    func testEveryPathMatchesTheDefinition() throws {
        for threads in [1, 2] {
            try Parallel.withThreads(threads) {
                for method in [Tensor.ConvolutionMethod.automatic, .lowered, .direct, .implicit, .winograd] {
                    try Tensor.withConvolutionMethod(method) {
                        for c in cases + directCases + implicitCases + winogradCases {
                            for relu in [false, true] {
                                try check(c, relu: relu, label: "\(method), \(threads) threads, \(GEMM.usesAVX2 ? "AVX2" : "portable")")
                                try GEMM.withPortableKernels {
                                    try check(c, relu: relu, label: "\(method), \(threads) threads, portable")
                                }
                            }
                        }
                    }
                }
                // The lowered backward with columns lowered again instead of kept from the forward.
                try Tensor.withConvolutionOptions(ConvolutionOptions(method: .lowered, keptColumnLimit: 0)) {
                    for c in cases + directCases {
                        for relu in [false, true] { try check(c, relu: relu, label: "lowered, columns not kept, \(threads) threads") }
                    }
                }
            }
        }
    }

    /// Stride-1 shapes multiplied image by image whose columns are packed straight from the
    /// image, padded first into the scratch (`fovea_pad_planes`) when the geometry has
    /// padding: a 14x14 plane whose 16-column slivers cross output rows (two runs per 8
    /// lanes) and a patch deeper than the direct kernels take, more output channels than
    /// columns (split by rows over 2 threads), uneven padding with odd rows, an even kernel,
    /// groups, and no padding at all.
    let implicitPerImageCases: [Case] = [
        Case(n: 1, c: 72, h: 14, w: 14, cout: 40, k: 3, padding: .uniform(1)),
        Case(n: 1, c: 20, h: 10, w: 10, cout: 200, k: 3, padding: .uniform(1)),
        Case(n: 1, c: 5, h: 9, w: 12, cout: 8, k: 3, padding: .explicit(top: 0, bottom: 2, left: 1, right: 0)),
        Case(n: 2, c: 4, h: 20, w: 20, cout: 7, k: 2, padding: .explicit(top: 1, bottom: 0, left: 0, right: 1)),
        Case(n: 1, c: 8, h: 16, w: 10, cout: 6, k: 3, padding: .uniform(1), groups: 2),
        Case(n: 1, c: 6, h: 20, w: 20, cout: 9, k: 5),
    ]

    /// The per-image implicit columns (`implicitPerImageCases`, automatic and forced): the
    /// forward at inference against the definition, the inference fusion with a scale,
    /// shift, residual and ReLU against the same applied to the lowered convolution, and
    /// forward and backward in training with the columns not kept (so the forward takes
    /// the path), on 1 and 2 threads, AVX2 and portable.
    func testImplicitColumnsImageByImage() throws {
        for threads in [1, 2] {
            try Parallel.withThreads(threads) {
                for c in implicitPerImageCases {
                    let x = randomTensor([c.n, c.c, c.h, c.w], seed: UInt64(c.h * 31 + c.w))
                    let w = randomTensor([c.cout, c.c / c.groups, c.k, c.k], seed: UInt64(c.cout * 7 + c.k))
                    let b = randomTensor([c.cout], seed: 9)
                    let geo = try Tensor.convolutionGeometry(input: x.shape, weight: w.shape, stride: c.stride, padding: c.padding,
                                                             dilation: c.dilation, groups: c.groups)
                    let outShape = [c.n, c.cout, geo.outHeight, geo.outWidth]
                    let reference = reference(x, w, b, randomTensor(outShape, seed: 1), geo).y
                    let scale = randomTensor([c.cout], seed: 21).values, shift = randomTensor([c.cout], seed: 22).values
                    let residual = randomTensor(outShape, seed: 23)
                    let lowered = try Tensor.withConvolutionMethod(.lowered) {
                        try withNoGrad { try Tensor.conv2d(x, weight: w, padding: c.padding, groups: c.groups) }
                    }
                    let plane = geo.outHeight * geo.outWidth
                    let fusedReference = lowered.values.enumerated().map { i, v in
                        Swift.max(0, scale[i / plane % c.cout] * v + shift[i / plane % c.cout] + residual.values[i])
                    }
                    for method in [Tensor.ConvolutionMethod.automatic, .implicit] {
                        for portable in [false, true] {
                            let what = "\(c), \(method), \(threads) threads, \(portable ? "portable" : "AVX2")"
                            func run<T>(_ body: () throws -> T) throws -> T {
                                try Tensor.withConvolutionMethod(method) { portable ? try GEMM.withPortableKernels(body) : try body() }
                            }
                            let y = try run { try withNoGrad { try Tensor.conv2d(x, weight: w, bias: b, padding: c.padding, groups: c.groups) } }
                            assertClose(y.values, reference, rtol: 1e-4, atol: 1e-4, "y, \(what)")
                            let fused = try run {
                                try Tensor.conv2dInference(x, weight: w, epilogue: ConvEpilogue(scale: scale, shift: shift, relu: true),
                                                           residual: residual, padding: c.padding, groups: c.groups)
                            }
                            assertClose(fused.values, fusedReference, rtol: 1e-4, atol: 1e-4, "fused, \(what)")
                            XCTAssertTrue(fused.values.contains(0) && fused.values.contains { $0 > 0 }, "the ReLU clipped some, \(what)")
                        }
                    }
                    try Tensor.withConvolutionOptions(ConvolutionOptions(method: .implicit, keptColumnLimit: 0)) {
                        try check(c, label: "implicit, columns not kept, \(threads) threads")
                    }
                }
            }
        }
    }

    /// `conv2dReLU` without a bias, with a frozen bias and with an input that needs no
    /// gradient (LeNet-5's first layer) against `conv2d(...).relu()`, on both methods.
    func testConvReLUWithoutABiasGradientMatchesConvThenReLU() throws {
        for method in [Tensor.ConvolutionMethod.direct, .lowered] {
            for (biased, inputGrad) in [(false, true), (true, true), (true, false)] {
                let x = randomTensor([5, 6, 14, 14], seed: 31, requiresGrad: inputGrad)
                let w = randomTensor([16, 6, 5, 5], seed: 32, requiresGrad: true)
                let b: Tensor? = biased ? randomTensor([16], seed: 33) : nil   // frozen: no gradient
                let dy = randomTensor([5, 16, 10, 10], seed: 34)
                let (fused, fusedDx, fusedDw) = try Tensor.withConvolutionMethod(method) { () throws -> ([Float], [Float]?, [Float]) in
                    let y = try Tensor.conv2dReLU(x, weight: w, bias: b)
                    try (y * dy).sum().backward()
                    defer { x.grad = nil; w.grad = nil }
                    return (y.values, x.grad?.values, w.grad!.values)
                }
                let y = try Tensor.conv2d(x, weight: w, bias: b).relu()
                try (y * dy).sum().backward()
                let label = "\(method), bias \(biased), input gradient \(inputGrad)"
                assertClose(fused, y.values, rtol: 1e-5, atol: 1e-5, label)
                assertClose(fusedDw, w.grad!.values, rtol: 1e-4, atol: 1e-4, label)
                XCTAssertEqual(fusedDx == nil, !inputGrad, label)
                if let fusedDx { assertClose(fusedDx, x.grad!.values, rtol: 1e-4, atol: 1e-4, label) }
                XCTAssertNil(b?.grad, label)
            }
        }
    }

    /// `conv2dReLUMaxPool2x2` against `maxPool2d(conv2dReLU(...), kernel: 2)`: on the direct
    /// kernels (fused) and where it falls back (lowered, odd outputs, a lowered input
    /// gradient), with and without an input gradient and a bias, on the AVX2 and portable
    /// kernels and 1 and 2 threads, and at inference (no argmax kept) against the recorded
    /// forward bit for bit. Ties (inputs of few distinct values) and windows the ReLU zeroes
    /// whole are exercised by the quantised inputs.
    func testConvReLUMaxPoolMatchesTheThreeOps() throws {
        // LeNet-5's two stages, 7 output channels (a 6-row tile and one more), an odd
        // output (11x11: falls back), 50 output channels (input gradient lowered: falls back).
        let shapes: [(Case, quantised: Bool)] = [
            (Case(n: 4, c: 1, h: 28, w: 28, cout: 6, k: 5, padding: .uniform(2)), false),
            (Case(n: 40, c: 6, h: 14, w: 14, cout: 16, k: 5), false),
            (Case(n: 3, c: 4, h: 10, w: 12, cout: 7, k: 3, padding: .uniform(1)), true),
            (Case(n: 2, c: 3, h: 13, w: 13, cout: 5, k: 3), false),
            (Case(n: 2, c: 20, h: 12, w: 12, cout: 50, k: 5), false),
        ]
        for (c, quantised) in shapes {
            for (threads, portable) in [(1, false), (2, false), (2, true)] {
                try Parallel.withThreads(threads) {
                    for method in [Tensor.ConvolutionMethod.automatic, .lowered] {
                        for (biased, inputGrad) in [(true, true), (false, true), (true, false)] {
                            var x = randomTensor([c.n, c.c, c.h, c.w], seed: 41, requiresGrad: inputGrad)
                            if quantised { x = try Tensor(shape: x.shape, values: x.values.map { ($0 * 2).rounded() / 2 }, requiresGrad: inputGrad) }
                            let w = randomTensor([c.cout, c.c, c.k, c.k], seed: 42, requiresGrad: true)
                            if quantised { try w.assign(Tensor(shape: w.shape, values: w.values.map { ($0 * 2).rounded() / 2 })) }
                            let b: Tensor? = biased ? randomTensor([c.cout], seed: 43, requiresGrad: true) : nil
                            let label = "\(c), \(method), bias \(biased), input gradient \(inputGrad), \(threads) threads\(portable ? ", portable" : "")"
                            func run(_ fused: Bool) throws -> (y: [Float], dx: [Float]?, dw: [Float], db: [Float]?) {
                                let y = try Tensor.withConvolutionMethod(method) { () throws -> Tensor in
                                    let body = { () throws -> Tensor in
                                        fused ? try Tensor.conv2dReLUMaxPool2x2(x, weight: w, bias: b, padding: c.padding)
                                            : try Tensor.maxPool2d(Tensor.conv2dReLU(x, weight: w, bias: b, padding: c.padding), kernel: 2)
                                    }
                                    let y = portable ? try GEMM.withPortableKernels(body) : try body()
                                    let dy = randomTensor(y.shape, seed: 44)
                                    try (portable ? GEMM.withPortableKernels { try (y * dy).sum().backward() } : (y * dy).sum().backward())
                                    return y
                                }
                                defer { x.grad = nil; w.grad = nil; b?.grad = nil }
                                return (y.values, x.grad?.values, w.grad!.values, b?.grad?.values)
                            }
                            let fused = try run(true), plain = try run(false)
                            XCTAssertEqual(fused.y, plain.y, label)
                            // At inference the pooling keeps no argmax; the values are the same bits.
                            let inferred = try Tensor.withConvolutionMethod(method) {
                                try withNoGrad {
                                    let body = { try Tensor.conv2dReLUMaxPool2x2(x, weight: w, bias: b, padding: c.padding) }
                                    return portable ? try GEMM.withPortableKernels(body) : try body()
                                }
                            }
                            XCTAssertEqual(inferred.values.map(\.bitPattern), fused.y.map(\.bitPattern), "at inference: \(label)")
                            assertClose(fused.dw, plain.dw, rtol: 1e-4, atol: 1e-4, label)
                            XCTAssertEqual(fused.dx == nil, !inputGrad, label)
                            if let dx = fused.dx, let pdx = plain.dx { assertClose(dx, pdx, rtol: 1e-4, atol: 1e-4, label) }
                            if let db = fused.db, let pdb = plain.db { assertClose(db, pdb, rtol: 1e-4, atol: 1e-4, label) }
                            XCTAssertEqual(fused.db == nil, !biased, label)
                            XCTAssertGreaterThan(plain.y.filter { $0 == 0 }.count, 0, "some windows are zeroed whole: \(label)")
                        }
                    }
                }
            }
        }
    }

    /// 2x2 max pooling by the definition: the first of (top-left, top-right, bottom-left,
    /// bottom-right) that no later value beats strictly; NaN never wins over a number.
    func referenceMaxPool(_ x: [Float], planes: Int, h: Int, w: Int) -> (y: [Float], argmax: [Int]) {
        let oh = h / 2, ow = w / 2
        var y: [Float] = [], arg: [Int] = []
        for q in 0..<planes { for i in 0..<oh { for j in 0..<ow {
            var best = x[q * h * w + 2 * i * w + 2 * j], bi = 2 * i * w + 2 * j
            for idx in [2 * i * w + 2 * j + 1, (2 * i + 1) * w + 2 * j, (2 * i + 1) * w + 2 * j + 1] where x[q * h * w + idx] > best {
                best = x[q * h * w + idx]; bi = idx
            }
            y.append(best); arg.append(q * h * w + bi)
        }}}
        return (y, arg)
    }

    func testMaxPool2x2MatchesTheDefinitionWithTiesAndNaN() throws {
        // Widths 35 and 17 leave tails after the 8-window steps; few distinct values make ties.
        for (h, w) in [(8, 35), (6, 17), (28, 28), (5, 4)] {
            var gen = SeededGenerator(seed: UInt64(h * w))
            var values = (0..<(3 * h * w)).map { _ in Float(Int(gen.next() % 4)) }
            values[5] = .nan
            values[w + 9] = .nan
            for portable in [false, true] {
                let x = try Tensor(shape: [1, 3, h, w], values: values, requiresGrad: true)
                let y = portable ? try GEMM.withPortableKernels { try Tensor.maxPool2d(x, kernel: 2) }
                    : try Tensor.maxPool2d(x, kernel: 2)
                let ref = referenceMaxPool(values, planes: 3, h: h, w: w)
                let label = "\(h)x\(w)\(portable ? " portable" : "")"
                XCTAssertEqual(y.values.map(\.bitPattern), ref.y.map(\.bitPattern), label)
                // The gradient of Σ y·r lands exactly on each window's chosen element.
                let r = (0..<y.count).map { Float($0 + 1) }
                try (y * Tensor(shape: y.shape, values: r)).sum().backward()
                var expected = [Float](repeating: 0, count: values.count)
                for (o, a) in ref.argmax.enumerated() { expected[a] += r[o] }
                XCTAssertEqual(x.grad!.values, expected, label)
            }
        }
    }

    /// Max pooling at inference (no gradient wanted: values only, `fovea_maxpool_values`)
    /// against the recording path with its argmax, bit for bit: ResNet's 3x3 stride-2
    /// padded stem pool, ceil mode with a window past the input, a window wholly in the
    /// padding, uneven windows, ties and NaN.
    func testMaxPoolValuesAtInferenceMatchTheRecordingPath() throws {
        let cases: [(h: Int, w: Int, k: Size2D, s: Size2D, padding: Padding, ceil: Bool)] = [
            (12, 11, 3, 2, .uniform(1), false),
            (9, 10, 3, 2, .valid, true),
            (5, 7, Size2D(2, 3), Size2D(1, 2), .valid, false),
            (4, 4, 2, 1, .full, false),
            (6, 6, 3, 3, .same, false),
        ]
        for c in cases {
            var gen = SeededGenerator(seed: UInt64(c.h * 31 + c.w))
            var values = (0..<(2 * 3 * c.h * c.w)).map { _ in Float(Int(gen.next() % 5)) - 2 }
            values[0] = .nan
            values[c.w + 2] = .nan
            let recorded = try Tensor(shape: [2, 3, c.h, c.w], values: values, requiresGrad: true)
            let plain = try Tensor(shape: [2, 3, c.h, c.w], values: values)
            let expected = try Tensor.maxPool2d(recorded, kernel: c.k, stride: c.s, padding: c.padding, ceilMode: c.ceil)
            let got = try Tensor.maxPool2d(plain, kernel: c.k, stride: c.s, padding: c.padding, ceilMode: c.ceil)
            XCTAssertNotNil(expected.gradFunction, "the reference records its argmax")
            XCTAssertNil(got.gradFunction)
            XCTAssertEqual(got.shape, expected.shape, "\(c)")
            XCTAssertEqual(got.values.map(\.bitPattern), expected.values.map(\.bitPattern), "\(c)")
        }
    }
}
