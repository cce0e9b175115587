import CFoveaKernels

/// Direct stride-1 convolution on wide planes (`direct.c`), forward and backward side by
/// side: the path for convolutions with few channels (LeNet's), where im2col's column
/// matrix costs more to write and read back than the multiply-adds it feeds.
///
/// Shapes as in `conv2d`: input `[N, C, H, W]`, weight `[Cout, C/groups, kh, kw]`, output
/// `[N, Cout, OH, OW]`, stride 1. Names: `Hp x Wp` the padded plane (`plane = Hp * Wp`),
/// `L = (OH - 1) * Wp + OW` the wide output positions of an image (`x >= OW` are thrown
/// away), `ldd` = L rounded up to 16.
///
/// - Forward: each image is padded once into `[C, Hp, Wp]`; per group,
///   `wide[CoG, L] = W_g[CoG, K] · shifted input` (tap (c, ky, kx) reads position
///   `j + c*plane + ky*dh*Wp + kx*dw`); the valid columns are gathered into NCHW with the
///   bias or the inference epilogue.
/// - Weight gradient: `dW[co, t] = Σ_n Σ_j dOut_wide[co, j] · x_pad[j + off_t]`, the output
///   gradient spread into wide rows with zeros in the thrown-away columns.
/// - Input gradient, scattered from the output positions: for each tap (ky, kx),
///   `dx_pad[c, j + ky*dh*Wp + kx*dw] += Σ_co W[co, c, ky, kx] · dOut_wide[co, j]`, then the
///   unpadded part of `dx_pad` is added into the input's gradient.
struct DirectConvolution {
    let g: ConvGeometry
    /// Padded plane.
    let Hp, Wp, plane: Int
    /// Wide output positions per image, and the row stride of the wide output.
    let L, ldd: Int
    /// Floats of one padded image (all channels, plus read slack).
    let paddedImage: Int
    /// Row stride of the wide output gradient (zeros past `L`).
    let gradRow: Int
    /// Plane stride of the padded input gradient the scatter adds into: `ldd` plus the
    /// largest in-plane tap offset, rounded up to 16.
    let ldx: Int

    init(_ g: ConvGeometry) {
        self.g = g
        Hp = g.height + g.padTop + g.padBottom
        Wp = g.width + g.padLeft + g.padRight
        plane = Hp * Wp
        L = (g.outHeight - 1) * Wp + g.outWidth
        ldd = (L + 15) / 16 * 16
        paddedImage = g.channels * plane + 16
        gradRow = ldd
        let reach = (g.kernel.h - 1) * g.dilation.h * Wp + (g.kernel.w - 1) * g.dilation.w
        ldx = (ldd + reach + 15) / 16 * 16
    }

    /// Offsets of taps (outer, ky, kx) in weight order: `base + outer * step ± in-plane`
    /// (`sign` -1 for the input gradient, which reads backwards).
    func offsets(outer: Int, step: Int, base: Int, sign: Int) -> [Int] {
        [Int](unsafeUninitializedCapacity: outer * g.kernel.h * g.kernel.w) { o, count in
            fillOffsets(o.baseAddress!, outer: outer, step: step, base: base, sign: sign)
            count = o.count
        }
    }

    /// Writes `offsets(outer:step:base:sign:)`'s `outer * kh * kw` values to `o`.
    private func fillOffsets(_ o: UnsafeMutablePointer<Int>, outer: Int, step: Int, base: Int, sign: Int) {
        var t = 0
        for c in 0..<outer {
            for ky in 0..<g.kernel.h {
                for kx in 0..<g.kernel.w {
                    o[t] = base + c * step + sign * (ky * g.dilation.h * Wp + kx * g.dilation.w)
                    t += 1
                }
            }
        }
    }

    /// Forward / weight-gradient offsets into a padded group, tap t = (c, ky, kx).
    var forwardOffsets: [Int] { offsets(outer: g.groupChannels, step: plane, base: 0, sign: 1) }

    /// Runs `body` with `forwardOffsets` in a temporary buffer (on the stack when small):
    /// the forward at inference, where an array's allocation is a visible part of a small
    /// layer's time.
    func withForwardOffsets<R>(_ body: (UnsafePointer<Int>) -> R) -> R {
        withUnsafeTemporaryAllocation(of: Int.self, capacity: g.groupChannels * g.kernel.h * g.kernel.w) { o in
            fillOffsets(o.baseAddress!, outer: g.groupChannels, step: plane, base: 0, sign: 1)
            return body(UnsafePointer(o.baseAddress!))
        }
    }

    /// The input-gradient scatter's offsets: tap (ky, kx) within a plane.
    var inPlaneOffsets: [Int] { offsets(outer: 1, step: 0, base: 0, sign: 1) }

    /// Weights packed for the forward, one block per group.
    func packForward(_ weight: UnsafePointer<Float>) -> TensorStorage {
        let K = g.patchSize, CoG = g.groupOutChannels, rows = (CoG + 5) / 6 * 6
        let packed = TensorStorage(count: g.groups * rows * K, zeroed: false)
        for grp in 0..<g.groups {
            fovea_direct_pack(CoG, 1, K, weight + grp * CoG * K, K, 0, 1, packed.pointer + grp * rows * K)
        }
        return packed
    }

    /// Weights packed for the input-gradient scatter: rows c, then taps (ky, kx), then
    /// output channels.
    func packTransposed(_ weight: UnsafePointer<Float>) -> TensorStorage {
        let K = g.patchSize, CoG = g.groupOutChannels, Cg = g.groupChannels
        let taps = g.kernel.h * g.kernel.w, rows = (Cg + 5) / 6 * 6, T = CoG * taps
        let packed = TensorStorage(count: g.groups * rows * T, zeroed: false)
        for grp in 0..<g.groups {
            fovea_direct_pack(Cg, taps, CoG, weight + grp * CoG * K, taps, 1, K, packed.pointer + grp * rows * T)
        }
        return packed
    }

    /// Pads `images` images into `dst` (`paddedImage` floats each).
    func pad(_ input: UnsafePointer<Float>, images: Int, into dst: UnsafeMutablePointer<Float>) {
        let imageStride = g.channels * g.height * g.width
        for b in 0..<images {
            fovea_spread_planes(g.channels, g.height, g.width, input + b * imageStride, dst + b * paddedImage,
                                paddedImage, plane, Wp, g.padTop * Wp + g.padLeft)
        }
    }

    /// Spreads the output gradients of images `start ..< start + images` into wide rows
    /// (`Cout * gradRow` floats each), as `gradient` says. With `planeSums` (`images * Cout`
    /// entries), a pooled gradient also sums each spread plane on the way; returns whether
    /// it did (the other forms leave the sums to `fovea_plane_sums`).
    func spreadGradient(_ gradient: DirectOutputGradient, start: Int, images: Int, into dst: UnsafeMutablePointer<Float>,
                        planeSums: UnsafeMutablePointer<Double>? = nil) -> Bool {
        let imageStride = g.outChannels * g.outPlane
        for n in start..<(start + images) {
            let wide = dst + (n - start) * g.outChannels * gradRow, length = g.outChannels * gradRow
            switch gradient {
            case .plain(let dOut, reluOutput: let y?):
                fovea_spread_planes_masked(g.outChannels, g.outHeight, g.outWidth, dOut + n * imageStride,
                                           y + n * imageStride, wide, length, gradRow, Wp, 0)
            case .plain(let dOut, reluOutput: nil):
                fovea_spread_planes(g.outChannels, g.outHeight, g.outWidth, dOut + n * imageStride, wide, length,
                                    gradRow, Wp, 0)
            case .pooled(let dPooled, argmax: let argmax, pooled: let pooled):
                let at = n * imageStride / 4
                fovea_spread_pooled(g.outChannels, g.outHeight / 2, g.outWidth / 2, dPooled + at, argmax + at, pooled + at,
                                    wide, length, gradRow, Wp, 0, planeSums.map { $0 + (n - start) * g.outChannels })
            }
        }
        if case .pooled = gradient { return planeSums != nil }
        return false
    }
}

/// Where the direct backward's output gradient comes from.
enum DirectOutputGradient {
    /// `dOut` (`[N, Cout, OH, OW]`), masked where `reluOutput` (the output of a fused ReLU,
    /// same shape) is not positive when it is given.
    case plain(UnsafePointer<Float>, reluOutput: UnsafePointer<Float>?)
    /// The gradient of a fused ReLU then 2x2 max pool (`[N, Cout, OH / 2, OW / 2]`): each
    /// window's value goes to its argmax where the pooled output is positive.
    case pooled(UnsafePointer<Float>, argmax: UnsafePointer<Int32>, pooled: UnsafePointer<Float>)
}

extension Tensor {
    /// Direct forward on raw NCHW buffers, split over `threads` threads; `bias` or
    /// `epilogue` (not both) as in `convolutionForward`. Threads take runs of images; with fewer images than threads
    /// (single-image inference) they take runs of 6-row blocks of output channels instead,
    /// over images padded once up front.
    ///
    /// With `pooled`, the output is `maxpool2x2(max(0, conv + bias))`,
    /// `[N, Cout, OH / 2, OW / 2]` (even OH and OW, no epilogue), pooled straight from the
    /// wide rows, and `pooledArgmax` (if given; not at inference) receives each window's
    /// argmax as `fovea_maxpool2x2_forward` gives it.
    static func directConvolutionForward(_ g: ConvGeometry, input: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                                         bias: UnsafePointer<Float>?, output: UnsafeMutablePointer<Float>,
                                         epilogue: ConvEpilogue?, pooled: Bool = false,
                                         pooledArgmax: UnsafeMutablePointer<Int32>? = nil, threads: Int) {
        let d = DirectConvolution(g)
        let K = g.patchSize, CoG = g.groupOutChannels, Cg = g.groupChannels, P = g.outPlane
        let rows = (CoG + 5) / 6 * 6, blocks = rows / 6
        let packed = d.packForward(weight)
        let imageStride = g.channels * g.height * g.width
        let parallel = g.batch * P * K * g.outChannels >= GEMM.parallelThreshold && threads > 1
        let byImages = !parallel || g.batch >= threads
        let chunks = !parallel ? 1 : byImages ? Swift.min(threads, g.batch) : Swift.min(threads, blocks)
        // Padded once for all threads when they split the channels.
        let shared = byImages ? nil : TensorStorage(count: g.batch * d.paddedImage, zeroed: false)
        if let shared { d.pad(input, images: g.batch, into: shared.pointer) }
        let scale = epilogue?.scale ?? [], shift = epilogue?.shift ?? []
        // Each chunk's padded image (when it pads its own) and wide output rows; a chunk
        // of channel blocks has at most this many rows.
        let largestRows = byImages ? CoG : Swift.min(CoG, (blocks + chunks - 1) / chunks * 6)
        let owns = ChunkScratch(chunks: chunks, count: d.paddedImage, needed: shared == nil)
        let wides = ChunkScratch(chunks: chunks, count: largestRows * d.ldd)
        d.withForwardOffsets { off in
            Parallel.forEachChunk(chunks) { chunk in
                let (n0, n1) = byImages ? (g.batch * chunk / chunks, g.batch * (chunk + 1) / chunks) : (0, g.batch)
                let (b0, b1) = byImages ? (0, blocks) : (blocks * chunk / chunks, blocks * (chunk + 1) / chunks)
                let r0 = b0 * 6, r1 = Swift.min(CoG, b1 * 6)
                guard n1 > n0, r1 > r0, let wide = wides.buffer(chunk) else { return }
                let own = owns.buffer(chunk)
                scale.withUnsafeBufferPointer { s in
                    shift.withUnsafeBufferPointer { t in
                        for n in n0..<n1 {
                            let image: UnsafeMutablePointer<Float>
                            if let own {
                                d.pad(input + n * imageStride, images: 1, into: own)
                                image = own
                            } else {
                                image = shared!.pointer + n * d.paddedImage
                            }
                            for grp in 0..<g.groups {
                                fovea_direct_conv(r1 - r0, d.L, K, off, packed.pointer + (grp * rows + r0) * K,
                                                  image + grp * Cg * d.plane, wide, d.ldd)
                                let c0 = grp * CoG + r0
                                if pooled {
                                    let at = (n * g.outChannels + c0) * (g.outHeight / 2) * (g.outWidth / 2)
                                    fovea_maxpool2x2_relu_rows(r1 - r0, g.outHeight, g.outWidth, g.outHeight / 2, g.outWidth / 2,
                                                               wide, d.ldd, d.Wp, bias.map { $0 + c0 },
                                                               output + at, pooledArgmax.map { $0 + at })
                                    continue
                                }
                                let (sc, sh): (UnsafePointer<Float>?, UnsafePointer<Float>?) = epilogue == nil
                                    ? (nil, bias.map { $0 + c0 }) : (s.baseAddress! + c0, t.baseAddress! + c0)
                                fovea_gather_planes(r1 - r0, g.outHeight, g.outWidth, wide, d.ldd, d.Wp, 0,
                                                    sc, sh, epilogue?.relu == true ? 1 : 0, 0,
                                                    output + (n * g.outChannels + c0) * P)
                            }
                        }
                    }
                }
            }
        }
    }

    /// `[dInput, dWeight, dBias?]` of a convolution whose whole backward runs on the direct
    /// kernels (on `plan`'s threads) from `dOutput`, for the arguments that require gradients: the input gradient
    /// is written (not added) image by image, so neither gradient needs zeroing first; the
    /// bias gradient is summed from the spread wide rows (only when the bias wants one: an
    /// empty array's address is not nil, so none is passed).
    static func directGradients(_ plan: ConvolutionPlan, input: Tensor, weight: Tensor, bias: Tensor?,
                                dOutput: DirectOutputGradient) -> [Tensor?] {
        let g = plan.geometry
        let dInput = input.requiresGrad ? Tensor.uninitialized(input.shape) : nil
        let dWeight = weight.requiresGrad ? Tensor.uninitialized(weight.shape) : nil
        let wantsBias = bias?.requiresGrad == true
        var planeSums = [Double](repeating: 0, count: wantsBias ? g.batch * g.outChannels : 0)
        if dInput != nil || dWeight != nil || wantsBias {
            planeSums.withUnsafeMutableBufferPointer { sums in
                directConvolutionBackward(g, input: input.pointer, weight: weight.pointer, dOutput: dOutput,
                                          dInput: dInput?.pointer, dWeight: dWeight?.pointer, overwritesInput: true,
                                          biasPlanes: wantsBias ? sums.baseAddress : nil, threads: plan.threads)
            }
        }
        var grads: [Tensor?] = [dInput, dWeight]
        if bias != nil {
            grads.append(wantsBias ? Tensor(channelTotals(planeSums, channels: g.outChannels).map { Float($0) }) : nil)
        }
        return grads
    }

    /// Direct backward on raw NCHW buffers, split over `threads` threads: adds `dL/dinput` into `dInput` (writes it with
    /// `overwritesInput`) and writes `dL/dweight` into `dWeight` (either may be nil), as
    /// `convolutionBackward` does.
    /// The output gradient is spread into wide rows as `dOutput` says (through a fused
    /// ReLU, or a fused ReLU and max pool, on the way). With `biasPlanes` (`N * Cout`
    /// entries), entry `n * Cout + c` receives the sum of image n's spread gradient plane c.
    static func directConvolutionBackward(_ g: ConvGeometry, input: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                                          dOutput: DirectOutputGradient, dInput: UnsafeMutablePointer<Float>?,
                                          dWeight: UnsafeMutablePointer<Float>?, overwritesInput: Bool = false,
                                          biasPlanes: UnsafeMutablePointer<Double>? = nil, threads: Int) {
        let d = DirectConvolution(g)
        let K = g.patchSize, CoG = g.groupOutChannels, Cg = g.groupChannels, P = g.outPlane
        let taps = g.kernel.h * g.kernel.w, rowsT = (Cg + 5) / 6 * 6, T = CoG * taps
        let packedT = dInput == nil ? nil : d.packTransposed(weight)
        let forwardOffsets = d.forwardOffsets, scatterOffsets = d.inPlaneOffsets
        let imageStride = g.channels * g.height * g.width
        let gradImage = g.outChannels * d.gradRow
        let work = g.batch * P * K * g.outChannels
        let chunks = work < GEMM.parallelThreshold ? 1 : Swift.max(1, Swift.min(threads, g.batch))
        // Images per round: the padded inputs and wide gradients of a round stay in L2, and
        // the weight gradient's horizontal sums are paid once per round, not per image.
        let perImage = d.paddedImage + gradImage
        let perRound = Swift.max(1, Tensor.columnBudget / perImage)
        let weightCount = g.outChannels * K
        let partials = dWeight == nil ? nil : TensorStorage(count: weightCount * chunks)
        let largestRound = Swift.max(1, Swift.min(perRound, (g.batch + chunks - 1) / chunks))
        let paddeds = ChunkScratch(chunks: chunks, count: largestRound * d.paddedImage, needed: dWeight != nil)
        let spreads = ChunkScratch(chunks: chunks, count: largestRound * gradImage)
        let wideInputs = ChunkScratch(chunks: chunks, count: Cg * d.ldx, needed: dInput != nil)
        Parallel.forEachChunk(chunks) { chunk in
            let n0 = g.batch * chunk / chunks, n1 = g.batch * (chunk + 1) / chunks
            let roundImages = Swift.max(1, Swift.min(perRound, n1 - n0))
            let padded = paddeds.buffer(chunk), spread = spreads.buffer(chunk)!, wideInput = wideInputs.buffer(chunk)
            let myWeightGrad = partials.map { $0.pointer + chunk * weightCount }
            var start = n0, first = true
            while start < n1 {
                let images = Swift.min(roundImages, n1 - start)
                let summed = d.spreadGradient(dOutput, start: start, images: images, into: spread,
                                              planeSums: biasPlanes.map { $0 + start * g.outChannels })
                if let biasPlanes, !summed {
                    // The wide rows hold each plane's values and zeros, so their sums are the planes'.
                    fovea_plane_sums(images * g.outChannels, d.gradRow, spread, biasPlanes + start * g.outChannels)
                }
                if let padded, let myWeightGrad {
                    d.pad(input + start * imageStride, images: images, into: padded)
                    forwardOffsets.withUnsafeBufferPointer { off in
                        for grp in 0..<g.groups {
                            fovea_direct_weight_grad(CoG, K, d.L, images, off.baseAddress,
                                                     spread + grp * CoG * d.gradRow, d.gradRow, gradImage,
                                                     padded + grp * Cg * d.plane, d.paddedImage,
                                                     first ? 0 : 1, myWeightGrad + grp * CoG * K, K)
                        }
                    }
                }
                if let dInput, let packedT, let wideInput {
                    scatterOffsets.withUnsafeBufferPointer { off in
                        for b in 0..<images {
                            for grp in 0..<g.groups {
                                wideInput.initialize(repeating: 0, count: Cg * d.ldx)
                                fovea_direct_scatter(Cg, CoG, taps, off.baseAddress, packedT.pointer + grp * rowsT * T,
                                                     spread + b * gradImage + grp * CoG * d.gradRow, d.gradRow, d.L,
                                                     wideInput, d.ldx)
                                fovea_gather_planes(Cg, g.height, g.width, wideInput, d.ldx, d.Wp, g.padTop * d.Wp + g.padLeft,
                                                    nil, nil, 0, overwritesInput ? 0 : 1,
                                                    dInput + (start + b) * imageStride + grp * Cg * g.height * g.width)
                            }
                        }
                    }
                }
                first = false
                start += images
            }
            if let myWeightGrad, n1 == n0 { myWeightGrad.initialize(repeating: 0, count: weightCount) }
        }
        if let dWeight, let partials { sumPartials(partials, chunks: chunks, count: weightCount, into: dWeight) }
    }
}
