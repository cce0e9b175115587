import CFoveaKernels
/// 2-D convolution (deep learning's cross-correlation), forward and backward side by side.
///
/// Shapes: input `[N, C, H, W]`, weight `[Cout, C/groups, kh, kw]`, bias `[Cout]`,
/// output `[N, Cout, OH, OW]` with `OH = floor((H + pt + pb - (dh*(kh-1)+1)) / sh) + 1`.
///
/// Method: the batch is cut into one contiguous run of images per thread; each thread
/// lowers its images with im2col into one `[K, images*P]` matrix per group. Large output
/// planes (P >= 256) are then multiplied image by image straight into NCHW, and a 1x1,
/// stride-1, unpadded convolution skips im2col altogether (an image is its own column
/// matrix); small planes are multiplied for all the images of a round in one GEMM.
/// Backward lowers the images again, unless the whole batch's columns were small enough
/// to keep from the forward (`keptColumnLimit`); it forms each thread's weight gradient
/// separately and adds the partial sums in thread order, so results do not depend on timing.
/// Stride-1 layers with few channels take the direct kernels instead
/// (`Tensor+DirectConvolution.swift`).

extension Tensor {
    /// Checks the operands of a convolution and works out its geometry; throws with the
    /// offending shapes and settings.
    public static func convolutionGeometry(input: [Int], weight: [Int], stride: Size2D, padding: Padding,
                                           dilation: Size2D, groups: Int) throws -> ConvGeometry {
        guard input.count == 4 else {
            throw TensorError.shapeMismatch(op: "conv2d", "input must be [N, C, H, W], got \(describe(input))")
        }
        guard weight.count == 4 else {
            throw TensorError.shapeMismatch(op: "conv2d", "weight must be [Cout, C/groups, kH, kW], got \(describe(weight))")
        }
        guard groups >= 1, input[1] % groups == 0, weight[0] % groups == 0 else {
            throw TensorError.invalidArgument(op: "conv2d", "groups \(groups) must divide input channels \(input[1]) and output channels \(weight[0])")
        }
        guard weight[1] * groups == input[1] else {
            throw TensorError.shapeMismatch(op: "conv2d", "input \(describe(input)) has \(input[1]) channels but weight \(describe(weight)) expects \(weight[1] * groups) (groups \(groups))")
        }
        guard stride.h >= 1, stride.w >= 1, dilation.h >= 1, dilation.w >= 1, weight[2] >= 1, weight[3] >= 1 else {
            throw TensorError.invalidArgument(op: "conv2d", "stride \(stride), dilation \(dilation) and kernel \(weight[2])x\(weight[3]) must be positive")
        }
        let ekh = dilation.h * (weight[2] - 1) + 1, ekw = dilation.w * (weight[3] - 1) + 1
        let (pt, pb) = padding.amounts(input: input[2], kernel: ekh, stride: stride.h, axis: 0)
        let (pl, pr) = padding.amounts(input: input[3], kernel: ekw, stride: stride.w, axis: 1)
        guard pt >= 0, pb >= 0, pl >= 0, pr >= 0 else {
            throw TensorError.invalidArgument(op: "conv2d", "padding \(padding) must not be negative")
        }
        let oh = convolutionOutputSize(input: input[2], kernel: weight[2], stride: stride.h, padBefore: pt, padAfter: pb, dilation: dilation.h)
        let ow = convolutionOutputSize(input: input[3], kernel: weight[3], stride: stride.w, padBefore: pl, padAfter: pr, dilation: dilation.w)
        guard oh >= 1, ow >= 1 else {
            throw TensorError.shapeMismatch(op: "conv2d", "input \(input[2])x\(input[3]) with padding \(padding) is smaller than the kernel \(ekh)x\(ekw) (dilation \(dilation))")
        }
        return ConvGeometry(batch: input[0], channels: input[1], height: input[2], width: input[3],
                            outChannels: weight[0], groups: groups, kernel: Size2D(weight[2], weight[3]),
                            stride: stride, dilation: dilation, padTop: pt, padBottom: pb, padLeft: pl, padRight: pr,
                            outHeight: oh, outWidth: ow)
    }

    /// Floats of one thread's column matrix that fit in its core's L2 cache (512 KiB):
    /// images are lowered in rounds of about this size, so the GEMM reads the columns back
    /// from L2, not from memory.
    static let columnBudget = 1 << 17
    /// Fewest columns a batched round's GEMM should have (16-wide slivers want many).
    static let minimumColumns = 256

    /// The batch split: `chunks` runs of images (one per thread), rounds of at most `perRound`
    /// images inside a run (one image when planes are large and go image by image), and
    /// how many threads each GEMM may use (when images are fewer than threads).
    static func convolutionPlan(_ g: ConvGeometry) -> (chunks: Int, perRound: Int, gemmThreads: Int) {
        let threads = Parallel.threadCount
        let work = g.batch * g.outPlane * g.patchSize * g.outChannels
        let chunks = work < GEMM.parallelThreshold ? 1 : Swift.max(1, Swift.min(threads, g.batch))
        let P = Swift.max(1, g.outPlane)
        let perRound = P >= perImagePlane ? 1
            : Swift.max((minimumColumns + P - 1) / P, columnBudget / Swift.max(1, g.patchSize * P))
        return (chunks, perRound, Swift.max(1, threads / chunks))
    }

    /// 2-D convolution (cross-correlation, as in every deep-learning library).
    ///
    /// - Parameters:
    ///   - input: `[N, C, H, W]`.
    ///   - weight: `[Cout, C/groups, kh, kw]`.
    ///   - bias: `[Cout]` or nil.
    ///   - stride, padding, dilation, groups: as in PyTorch's `F.conv2d`; see `Padding`.
    /// - Returns: `[N, Cout, OH, OW]`, `OH = floor((H + pt + pb - (dh*(kh-1)+1)) / sh) + 1`.
    public static func conv2d(_ input: Tensor, weight: Tensor, bias: Tensor? = nil, stride: Size2D = 1,
                              padding: Padding = .valid, dilation: Size2D = 1, groups: Int = 1) throws -> Tensor {
        try convolution(input, weight: weight, bias: bias, stride: stride, padding: padding, dilation: dilation,
                        groups: groups, relu: false)
    }

    /// `conv2d(...).relu()` as one op, for training as well as inference: the bias and the
    /// ReLU are applied as the convolution places its output, and the backward masks the
    /// incoming gradient by `output > 0` once before the convolution's own backward, instead
    /// of a separate ReLU pass each way. Arguments and shapes as `conv2d`.
    public static func conv2dReLU(_ input: Tensor, weight: Tensor, bias: Tensor? = nil, stride: Size2D = 1,
                                  padding: Padding = .valid, dilation: Size2D = 1, groups: Int = 1) throws -> Tensor {
        try convolution(input, weight: weight, bias: bias, stride: stride, padding: padding, dilation: dilation,
                        groups: groups, relu: true)
    }

    /// `conv2d`, followed by a ReLU when `relu`.
    static func convolution(_ input: Tensor, weight: Tensor, bias: Tensor?, stride: Size2D, padding: Padding,
                            dilation: Size2D, groups: Int, relu: Bool) throws -> Tensor {
        let op = relu ? "conv2dReLU" : "conv2d"
        let g = try convolutionGeometry(input: input.shape, weight: weight.shape, stride: stride,
                                        padding: padding, dilation: dilation, groups: groups)
        if let bias, bias.shape != [g.outChannels] {
            throw TensorError.shapeMismatch(op: op, "bias \(describe(bias.shape)) for \(g.outChannels) output channels")
        }
        let out = Tensor.uninitialized([g.batch, g.outChannels, g.outHeight, g.outWidth])
        // The forward's column matrices, kept for the weight gradient when they are small.
        let kept = GradMode.isEnabled && weight.requiresGrad && keepsColumns(g)
            ? TensorStorage(count: g.groups * g.batch * g.patchSize * g.outPlane, zeroed: false) : nil
        // The ReLU rides on the epilogue, which then carries the bias too.
        let epilogue = relu ? ConvEpilogue(scale: [Float](repeating: 1, count: g.outChannels),
                                           shift: bias?.values ?? [Float](repeating: 0, count: g.outChannels), relu: true) : nil
        convolutionForward(g, input: input.pointer, weight: weight.pointer, bias: relu ? nil : bias?.pointer,
                           output: out.pointer, epilogue: epilogue, columns: kept?.pointer)
        let inputs = bias.map { [input, weight, $0] } ?? [input, weight]
        let y = UncheckedSendable(UnsafePointer(out.pointer))
        return record(op, out, inputs: inputs,
                      graph: relu ? nil : .conv2d(stride: stride, padding: padding, dilation: dilation, groups: groups, bias: bias != nil)) { dOut in
            // On the direct path the ReLU's mask and the bias sums ride on the spread of
            // the gradient into wide rows; that needs the direct kernels to do the whole
            // backward (not a lowered input gradient) and something for them to do.
            if relu, usesDirectConvolution(g), !usesWinogradWeightGradient(g),
               !input.requiresGrad || (usesDirectInputGradient(g) && !usesWinogradInputGradient(g)),
               input.requiresGrad || weight.requiresGrad {
                return directGradients(g, input: input, weight: weight, bias: bias,
                                       dOutput: .plain(dOut.pointer, reluOutput: y.value))
            }
            let dInput = input.requiresGrad ? Tensor(zeros: input.shape) : nil
            let dWeight = weight.requiresGrad ? Tensor(zeros: weight.shape) : nil
            // Through the ReLU first: the gradient where the output is positive.
            let dConv = relu ? reluGradient(dOut, output: y.value) : dOut
            convolutionBackward(g, input: input.pointer, weight: weight.pointer, dOutput: dConv.pointer,
                                dInput: dInput?.pointer, dWeight: dWeight?.pointer, columns: kept.map { UnsafePointer($0.pointer) })
            var grads: [Tensor?] = [dInput, dWeight]
            if let bias {
                grads.append(bias.requiresGrad ? biasGradient(dConv, channels: g.outChannels) : nil)
            }
            return grads
        }
    }

    /// `dBias[c] = Σ_{n,h,w} dOut[n, c, h, w]` for an NCHW gradient: each plane summed
    /// with eight lanes (`fovea_plane_sums`), planes split over threads, and the planes of
    /// a channel added in image order, so the result does not depend on the thread count.
    static func biasGradient(_ dOut: Tensor, channels: Int) -> Tensor {
        let N = dOut.shape[0], rows = N * channels
        let plane = dOut.count / Swift.max(1, rows)
        var planeSums = [Double](repeating: 0, count: rows)
        planeSums.withUnsafeMutableBufferPointer { out in
            let o = UncheckedSendable(out.baseAddress!), g = UncheckedSendable(UnsafePointer(dOut.pointer))
            Parallel.forRanges(rows, minPerChunk: Swift.max(1, (1 << 15) / Swift.max(1, plane))) { r in
                fovea_plane_sums(r.count, plane, g.value + r.lowerBound * plane, o.value + r.lowerBound)
            }
        }
        return Tensor(channelTotals(planeSums, channels: channels).map { Float($0) })
    }

    /// `[channels]` totals of per-(image, channel) sums (entry `n * channels + c`), added in
    /// image order, so they do not depend on how the rows were split over threads.
    static func channelTotals(_ rowSums: [Double], channels: Int) -> [Double] {
        var sums = [Double](repeating: 0, count: channels)
        for r in 0..<rowSums.count { sums[r % channels] += rowSums[r] }
        return sums
    }

    /// Most floats of column matrices a training convolution keeps from its forward for its
    /// backward (default 4M floats, 16 MiB), instead of lowering the images a second time;
    /// 0 always lowers again. Set it at start-up (tests use 0 to check both ways), not
    /// while convolutions run.
    nonisolated(unsafe) public static var keptColumnLimit = 1 << 22

    /// Whether the lowered path keeps this geometry's columns: it lowers at all (not
    /// direct, not pointwise on large planes) and the whole batch's fit the limit
    /// (LeNet_modify's conv2 at batch 64: 2M floats; CIFAR ResNet layers are far larger).
    static func keepsColumns(_ g: ConvGeometry) -> Bool {
        !usesDirectConvolution(g) && !usesWinograd(g) && !(multipliesImageByImage(g) && g.isPointwise) && !usesImplicitColumns(g)
            && g.groups * g.batch * g.patchSize * g.outPlane <= keptColumnLimit
    }

    /// Whether the lowered path's two products that read the columns (the forward and the
    /// weight gradient) pack them straight from the images (`fovea_implicit_forward`,
    /// `fovea_implicit_weight_grad`) instead of through im2col, and the input gradient adds
    /// each tile of the column gradient onto its pixels (`fovea_implicit_input_grad`)
    /// instead of writing the columns for col2im: for unpadded, stride-1,
    /// undilated, non-pointwise geometries with small planes (the batched rounds), one
    /// thread per GEMM. LeNet_modify's conv2 (20 -> 50 channels, 12x12 -> 8x8) is the case
    /// it was measured on: its 2M-float column matrix is neither written nor kept.
    static func usesImplicitColumns(_ g: ConvGeometry) -> Bool {
        guard forcedConvolutionMethod != .lowered, !usesDirectConvolution(g), !g.isPointwise,
              g.stride.h == 1, g.stride.w == 1, g.dilation.h == 1, g.dilation.w == 1,
              g.padTop == 0, g.padBottom == 0, g.padLeft == 0, g.padRight == 0, g.outPlane < perImagePlane else { return false }
        return convolutionPlan(g).gemmThreads == 1
    }

    /// Whether a convolution multiplied image by image (`multipliesImageByImage`) packs its
    /// columns straight from the image (`fovea_implicit_forward_block`; padded first into
    /// the scratch by `fovea_pad_planes` when it has padding) instead of writing them out with
    /// im2col: stride 1, undilated, not pointwise, rows of at least 8 outputs (each 8 columns
    /// of a packed sliver are then at most two runs of one image row each) and more than 64
    /// columns (fewer go to the GEMM's path that reads the weights in place).
    /// ResNet-50's 3x3 convolutions on 14x14 planes at batch 1 are the case it was built for.
    static func packsColumnsPerImage(_ g: ConvGeometry) -> Bool {
        guard forcedConvolutionMethod == .automatic || forcedConvolutionMethod == .implicit else { return false }
        return !g.isPointwise && g.stride == 1 && g.dilation == 1 && g.outWidth >= 8 && g.outPlane > 64
            && !usesDirectConvolution(g) && !usesWinograd(g)
    }

    /// Output planes at least this large are multiplied image by image, reading and
    /// writing NCHW in place; smaller ones are multiplied for several images at once (so
    /// the GEMM has enough columns) through a gather / scatter copy.
    static let perImagePlane = 256

    /// Whether the lowered path multiplies image by image straight into NCHW: large planes,
    /// and rounds of a single image (single-image inference), where a batched round would
    /// only add the gather and scatter copies, and a pointwise convolution would copy the
    /// image into a column matrix it already is. Not where the implicit columns apply.
    static func multipliesImageByImage(_ g: ConvGeometry) -> Bool {
        if g.outPlane >= perImagePlane { return true }
        let (chunks, perRound, _) = convolutionPlan(g)
        return Swift.min(perRound, Swift.max(1, (g.batch + chunks - 1) / chunks)) == 1 && !usesImplicitColumns(g)
    }

    /// Forward kernel on raw NCHW buffers: `output = conv(input, weight) + bias`.
    /// With `epilogue`, each output channel c becomes `epilogue.apply(acc, c)` (and `bias`
    /// must be nil: fold it into the epilogue's shift), in the same pass that places it.
    /// With `residual` (the output's shape), it is added before the epilogue's ReLU: a
    /// residual block's `relu(bn(conv(x)) + shortcut)`, in that same pass where the product
    /// is multiplied image by image (`fovea_sgemm_epilogue`), else in one pass after it.
    public static func convolutionForward(_ g: ConvGeometry, input: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                                          bias: UnsafePointer<Float>?, output: UnsafeMutablePointer<Float>,
                                          epilogue: ConvEpilogue? = nil, residual: UnsafePointer<Float>? = nil,
                                          columns: UnsafeMutablePointer<Float>? = nil) {
        if let residual, columns != nil || usesWinograd(g) || usesDirectConvolution(g) || !multipliesImageByImage(g) {
            var plain = epilogue
            plain?.relu = false
            convolutionForward(g, input: input, weight: weight, bias: bias, output: output, epilogue: plain, columns: columns)
            addResidual(residual, to: output, count: g.batch * g.outChannels * g.outPlane, relu: epilogue?.relu ?? false)
            return
        }
        if columns == nil, usesWinograd(g) {
            winogradForward(g, input: input, weight: weight, bias: bias, output: output, epilogue: epilogue)
            return
        }
        if usesDirectConvolution(g) {
            directConvolutionForward(g, input: input, weight: weight, bias: bias, output: output, epilogue: epilogue)
            return
        }
        let (chunks, perRound, gemmThreads) = convolutionPlan(g)
        let K = g.patchSize, P = g.outPlane, CoG = g.groupOutChannels, Cg = g.groupChannels
        let imageStride = g.channels * g.height * g.width
        let perImage = multipliesImageByImage(g), pointwise = perImage && g.isPointwise
        // Kept columns must be written, so a caller that wants them gets im2col.
        let implicit = columns == nil && usesImplicitColumns(g)
        let implicitPerImage = columns == nil && perImage && packsColumnsPerImage(g)
        var shape = g.loweringShape
        let largestRound = Swift.min(perRound, Swift.max(1, (g.batch + chunks - 1) / chunks))
        // With implicit columns the scratch is only for lowering after all, should the
        // implicit product find no packing memory.
        let scratches = ChunkScratch(chunks: chunks, count: K * largestRound * P, needed: !pointwise && columns == nil)
        // The per-image products' epilogue: the folded batch norm's scales and shifts, copied
        // where pointers to them live through the region below, or the bias.
        let folded = UnsafeMutablePointer<Float>.allocate(capacity: 2 * (epilogue?.scale.count ?? 0))
        defer { folded.deallocate() }
        if let epilogue {
            folded.initialize(from: epilogue.scale, count: epilogue.scale.count)
            (folded + epilogue.scale.count).initialize(from: epilogue.shift, count: epilogue.shift.count)
        }
        let epilogueScale = epilogue.map { _ in UncheckedSendable(UnsafePointer(folded)) }
        let epilogueShift = epilogue.map { e in UncheckedSendable(UnsafePointer(folded + e.scale.count)) }
            ?? bias.map { UncheckedSendable($0) }
        let tmps = ChunkScratch(chunks: chunks, count: CoG * largestRound * P, needed: !perImage)
        Parallel.forEachChunk(chunks) { chunk in
            let n0 = g.batch * chunk / chunks, n1 = g.batch * (chunk + 1) / chunks
            let roundImages = Swift.min(perRound, Swift.max(n1 - n0, 1))
            let scratch = scratches.buffer(chunk), tmp = tmps.buffer(chunk)
            var start = n0
            while start < n1 {
                let images = Swift.min(roundImages, n1 - start)
                let cols = images * P
                for grp in 0..<g.groups {
                    let groupInput = input + start * imageStride + grp * Cg * g.height * g.width
                    let groupWeight = weight + grp * CoG * K
                    // This round's columns: kept for the backward, or in the scratch buffer.
                    let col = pointwise ? nil : columns.map { $0 + (grp * g.batch + start) * K * P } ?? scratch!
                    // tmp[CoG, cols] = W_g · col, the columns packed from the images.
                    let packedImplicitly = implicit && fovea_implicit_forward(&shape, groupInput, imageStride, images, CoG,
                                                                              groupWeight, K, tmp!, cols) != 0
                    if let col, !packedImplicitly, !implicitPerImage {
                        Im2Col.im2col(g, input: groupInput, imageStride: imageStride, images: images, col: col, ldc: cols,
                                      threads: gemmThreads)
                    }
                    if perImage {
                        // Y_b[CoG, P] = W_g[CoG, K] · col_b[K, P], written straight into NCHW.
                        for b in 0..<images {
                            let dst = output + ((start + b) * g.outChannels + grp * CoG) * P
                            // Its columns: the image itself when pointwise.
                            let colB = col.map { UnsafePointer($0 + b * P) } ?? groupInput + b * imageStride
                            // The epilogue (or the bias), and the residual, meet each block of
                            // the output while the product has it in cache.
                            let firstOutput = ((start + b) * g.outChannels + grp * CoG) * P
                            let blockEpilogue = epilogueShift.map { shift in
                                GEMM.Epilogue(scale: epilogueScale.map { $0.value + grp * CoG },
                                              shift: shift.value + grp * CoG,
                                              residual: residual.map { $0 + firstOutput }, residualStride: P,
                                              relu: epilogue?.relu ?? false)
                            }
                            if implicitPerImage, let col {
                                multiplyImagePackingColumns(g, image: groupInput + b * imageStride, imageStride: imageStride,
                                                            weight: groupWeight, output: dst, epilogue: blockEpilogue,
                                                            scratch: col, threads: gemmThreads)
                                continue
                            }
                            GEMM.sgemm(m: CoG, n: P, k: K, a: groupWeight, lda: K, b: colB, ldb: col == nil ? P : cols,
                                       c: dst, ldc: P, threads: gemmThreads, epilogue: blockEpilogue)
                        }
                    } else if let col, let tmp {
                        if !packedImplicitly {
                            GEMM.sgemm(m: CoG, n: cols, k: K, a: groupWeight, lda: K,
                                       b: col, ldb: cols, c: tmp, ldc: cols, threads: gemmThreads)
                        }
                        // Scatter [CoG, images*P] into NCHW, adding the bias.
                        for b in 0..<images {
                            for co in 0..<CoG {
                                let oc = grp * CoG + co
                                let dst = output + ((start + b) * g.outChannels + oc) * P
                                let src = tmp + co * cols + b * P
                                let bv = bias?[oc] ?? 0
                                for p in 0..<P { dst[p] = src[p] + bv }
                            }
                            if let epilogue {
                                epilogue.apply(to: output + ((start + b) * g.outChannels + grp * CoG) * P,
                                               firstChannel: grp * CoG, channels: 0..<CoG, plane: P)
                            }
                        }
                    }
                }
                start += images
            }
        }
    }

    /// One image's group of a convolution that `packsColumnsPerImage`: `output[CoG, P] =
    /// epilogue(W[CoG, K] · columns)`, the columns packed straight from the image (copied
    /// into `scratch` with its padding first, if it has any) by each thread for its block of
    /// the product. Should a thread find no memory to pack into, the columns are written
    /// out into `scratch` by im2col after all and multiplied by the plain GEMM.
    static func multiplyImagePackingColumns(_ g: ConvGeometry, image: UnsafePointer<Float>, imageStride: Int,
                                            weight: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>,
                                            epilogue: GEMM.Epilogue?, scratch: UnsafeMutablePointer<Float>, threads: Int) {
        let K = g.patchSize, P = g.outPlane, CoG = g.groupOutChannels, Cg = g.groupChannels
        let paddedHeight = g.height + g.padTop + g.padBottom, paddedWidth = g.width + g.padLeft + g.padRight
        let padded = paddedHeight != g.height || paddedWidth != g.width
        if padded {
            fovea_pad_planes(Cg, g.height, g.width, g.padTop, g.padBottom, g.padLeft, g.padRight, image, scratch)
        }
        let x = padded ? UnsafePointer(scratch) : image
        // The padded image's geometry: an unpadded convolution with the same output.
        let shape = fovea_conv_shape(channels: Cg, height: paddedHeight, width: paddedWidth, out_height: g.outHeight,
                                     out_width: g.outWidth, kh: g.kernel.h, kw: g.kernel.w, sh: 1, sw: 1, dh: 1, dw: 1,
                                     pt: 0, pl: 0)
        let failed = UnsafeMutablePointer<Bool>.allocate(capacity: threads)
        defer { failed.deallocate() }
        failed.initialize(repeating: false, count: threads)
        GEMM.forEachBlock(m: CoG, n: P, k: K, threads: threads) { block, rows, columns in
            var blockShape = shape
            let run = { (e: UnsafePointer<fovea_gemm_epilogue>?) in
                fovea_implicit_forward_block(&blockShape, x, Cg * paddedHeight * paddedWidth, 1, rows.count,
                                             weight + rows.lowerBound * K, K, columns.lowerBound, columns.count,
                                             output + rows.lowerBound * P + columns.lowerBound, P, e)
            }
            let done = if var ep = epilogue?.block(row: rows.lowerBound, column: columns.lowerBound) { run(&ep) } else { run(nil) }
            if done == 0 { failed[block] = true }
        }
        if (0..<threads).contains(where: { failed[$0] }) {
            Im2Col.im2col(g, input: image, imageStride: imageStride, images: 1, col: scratch, ldc: P, threads: threads)
            GEMM.sgemm(m: CoG, n: P, k: K, a: weight, lda: K, b: scratch, ldb: P, c: output, ldc: P, threads: threads,
                       epilogue: epilogue)
        }
    }

    /// `planes[c, p] = scale[c] * planes[c, p] + shift[c]`, then `max(0, .)` with `relu`,
    /// for channels `channels` of planes `plane` floats long (`fovea_scale_shift_planes`; a
    /// nil `scale` is 1, a bias).
    static func scaleShift(_ planes: UnsafeMutablePointer<Float>, scale: UnsafePointer<Float>?, shift: UnsafePointer<Float>,
                           relu: Bool, channels: Range<Int>, plane: Int) {
        fovea_scale_shift_planes(channels.count, plane, planes + channels.lowerBound * plane,
                                 scale.map { $0 + channels.lowerBound }, shift + channels.lowerBound, relu ? 1 : 0)
    }

    /// `output[i] += residual[i]`, then `max(0, .)` with `relu`, over `count` floats split
    /// over threads: the residual of a convolution whose product could not add it.
    static func addResidual(_ residual: UnsafePointer<Float>, to output: UnsafeMutablePointer<Float>, count: Int, relu: Bool) {
        let o = UncheckedSendable(output), r = UncheckedSendable(residual)
        Parallel.forRanges(count, minPerChunk: 1 << 16) { range in
            for i in range {
                let v = o.value[i] + r.value[i]
                o.value[i] = relu ? (v > 0 ? v : 0) : v
            }
        }
    }

    /// Backward kernel on raw NCHW buffers: adds `dL/dinput` into `dInput` and writes
    /// `dL/dweight` into `dWeight` (either may be nil when not needed).
    public static func convolutionBackward(_ g: ConvGeometry, input: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                                           dOutput: UnsafePointer<Float>, dInput: UnsafeMutablePointer<Float>?,
                                           dWeight: UnsafeMutablePointer<Float>?, columns: UnsafePointer<Float>? = nil) {
        var dInput = dInput, dWeight = dWeight
        if let dx = dInput, usesWinogradInputGradient(g) {
            winogradInputGradient(g, weight: weight, dOutput: dOutput, dInput: dx)
            dInput = nil
        }
        if let dw = dWeight, usesWinogradWeightGradient(g) {
            winogradWeightGradient(g, input: input, dOutput: dOutput, dWeight: dw)
            dWeight = nil
        }
        if dInput == nil && dWeight == nil { return }
        if usesDirectConvolution(g) {
            // The weight gradient always goes direct; the input gradient only where the
            // direct kernel's 6-row tiles are well filled by the input channels.
            let directInput = usesDirectInputGradient(g)
            directConvolutionBackward(g, input: input, weight: weight, dOutput: .plain(dOutput, reluOutput: nil),
                                      dInput: directInput ? dInput : nil, dWeight: dWeight)
            if directInput || dInput == nil { return }
            dWeight = nil
        }
        let (chunks, perRound, gemmThreads) = convolutionPlan(g)
        let K = g.patchSize, P = g.outPlane, CoG = g.groupOutChannels, Cg = g.groupChannels
        let imageStride = g.channels * g.height * g.width
        let implicit = columns == nil && usesImplicitColumns(g)
        var shape = g.loweringShape
        let weightCount = g.outChannels * K
        let perImage = multipliesImageByImage(g), pointwise = perImage && g.isPointwise
        // One weight-gradient buffer per chunk, summed in chunk order afterwards.
        let partials = dWeight == nil ? nil : TensorStorage(count: weightCount * chunks)
        // Scratch for the lowered columns (unless the forward kept them) and the column
        // gradient; with kept columns the two are different buffers, and the kept ones are
        // only read.
        let largestRound = Swift.min(perRound, Swift.max(1, (g.batch + chunks - 1) / chunks))
        let scratches = ChunkScratch(chunks: chunks, count: K * largestRound * P,
                                     needed: !(pointwise || (columns != nil && dInput == nil)))
        let dOutGs = ChunkScratch(chunks: chunks, count: CoG * largestRound * P, needed: !perImage)
        Parallel.forEachChunk(chunks) { chunk in
            let n0 = g.batch * chunk / chunks, n1 = g.batch * (chunk + 1) / chunks
            let roundImages = Swift.min(perRound, Swift.max(n1 - n0, 1))
            let scratch = scratches.buffer(chunk), dOutG = dOutGs.buffer(chunk)
            let myWeightGrad = partials.map { $0.pointer + chunk * weightCount }
            var start = n0
            while start < n1 {
                let images = Swift.min(roundImages, n1 - start)
                let cols = images * P
                for grp in 0..<g.groups {
                    let inputOffset = start * imageStride + grp * Cg * g.height * g.width
                    let groupWeight = weight + grp * CoG * K
                    let kept = columns.map { $0 + (grp * g.batch + start) * K * P }
                    let col: UnsafePointer<Float>? = pointwise ? nil : kept ?? UnsafePointer(scratch!)
                    let dcol = scratch
                    if kept == nil, !implicit, let dst = scratch, myWeightGrad != nil {
                        Im2Col.im2col(g, input: input + inputOffset, imageStride: imageStride, images: images,
                                      col: dst, ldc: cols)
                    }
                    if perImage {
                        for b in 0..<images {
                            // This image's output gradient, [CoG, P] in place.
                            let dOutB = dOutput + ((start + b) * g.outChannels + grp * CoG) * P
                            // Its columns: the image itself when pointwise.
                            let colB = col.map { $0 + b * P } ?? input + inputOffset + b * imageStride
                            let ldCol = col == nil ? P : cols
                            if let myWeightGrad {
                                // dW_g[CoG, K] += dOut_b[CoG, P] · col_bᵀ[P, K]
                                GEMM.sgemm(transB: true, m: CoG, n: K, k: P, a: dOutB, lda: P, b: colB, ldb: ldCol,
                                           beta: 1, c: myWeightGrad + grp * CoG * K, ldc: K, threads: gemmThreads)
                            }
                            if let dInput {
                                // dcol_b[K, P] = W_gᵀ[K, CoG] · dOut_b[CoG, P]; pointwise, that is
                                // the image's input gradient itself, so it is added there.
                                let (dst, ldd, beta): (UnsafeMutablePointer<Float>, Int, Float) = dcol.map { ($0 + b * P, cols, 0) }
                                    ?? (dInput + inputOffset + b * imageStride, P, 1)
                                GEMM.sgemm(transA: true, m: K, n: P, k: CoG, a: groupWeight, lda: K, b: dOutB, ldb: P,
                                           beta: beta, c: dst, ldc: ldd, threads: gemmThreads)
                            }
                        }
                        if let dInput, let dcol {
                            Im2Col.col2im(g, col: dcol, ldc: cols, images: images,
                                          input: dInput + inputOffset, imageStride: imageStride)
                        }
                    } else if let col, let dOutG {
                        // Gather this group's output gradient as [CoG, images*P].
                        for b in 0..<images {
                            for co in 0..<CoG {
                                (dOutG + co * cols + b * P).update(
                                    from: dOutput + ((start + b) * g.outChannels + grp * CoG + co) * P, count: P)
                            }
                        }
                        if let myWeightGrad {
                            // dW_g[CoG, K] += dOut_g[CoG, cols] · colᵀ[cols, K], the columns packed
                            // from the images when implicit (else lowered above, or now if the
                            // implicit product found no packing memory).
                            let dw = myWeightGrad + grp * CoG * K
                            let done = implicit && fovea_implicit_weight_grad(&shape, input + inputOffset, imageStride, images, CoG,
                                                                               dOutG, cols, 1, dw, K) != 0
                            if !done {
                                if implicit, let dst = scratch {
                                    Im2Col.im2col(g, input: input + inputOffset, imageStride: imageStride, images: images,
                                                  col: dst, ldc: cols)
                                }
                                GEMM.sgemm(transB: true, m: CoG, n: K, k: cols, a: dOutG, lda: cols,
                                           b: col, ldb: cols, beta: 1, c: dw, ldc: K, threads: gemmThreads)
                            }
                        }
                        if let dInput, let dcol {
                            // dcol[K, cols] = W_gᵀ[K, CoG] · dOut_g[CoG, cols], scatter-added to the
                            // pixels: tile by tile when implicit, else written out, then col2im.
                            let done = implicit && fovea_implicit_input_grad(&shape, dOutG, cols, images, CoG, groupWeight, K,
                                                                              dInput + inputOffset, imageStride) != 0
                            if !done {
                                GEMM.sgemm(transA: true, m: K, n: cols, k: CoG, a: groupWeight, lda: K,
                                           b: dOutG, ldb: cols, c: dcol, ldc: cols, threads: gemmThreads)
                                Im2Col.col2im(g, col: dcol, ldc: cols, images: images,
                                              input: dInput + inputOffset, imageStride: imageStride)
                            }
                        }
                    }
                }
                start += images
            }
        }
        if let dWeight, let partials { sumPartials(partials, chunks: chunks, count: weightCount, into: dWeight) }
    }

    /// `dst = Σ_c partials[c]` over `chunks` consecutive blocks of `count` floats, added in
    /// chunk order (each thread's weight gradient), so the sum does not depend on timing.
    static func sumPartials(_ partials: TensorStorage, chunks: Int, count: Int, into dst: UnsafeMutablePointer<Float>) {
        dst.update(from: partials.pointer, count: count)
        for c in 1..<Swift.max(chunks, 1) {
            let src = partials.pointer + c * count
            for i in 0..<count { dst[i] += src[i] }
        }
    }

    /// The same tensor with its last two axes reversed (a kernel rotated by 180 degrees).
    public func flippedSpatially() throws -> Tensor {
        guard rank >= 2 else {
            throw TensorError.shapeMismatch(op: "flip", "needs at least 2 axes, got \(describe(shape))")
        }
        let h = shape[rank - 2], w = shape[rank - 1], planes = count / Swift.max(h * w, 1)
        let out = Tensor.uninitialized(shape)
        for p in 0..<planes {
            let src = pointer + p * h * w, dst = out.pointer + p * h * w
            for i in 0..<h { for j in 0..<w { dst[i * w + j] = src[(h - 1 - i) * w + (w - 1 - j)] } }
        }
        return Tensor.record("flip", out, inputs: [self]) { g in [try! g.flippedSpatially()] }
    }

    /// True (textbook) 2-D convolution: the kernel is rotated by 180 degrees before sliding,
    /// `Y[i,j] = Σ X[i-k1, j-k2] W[k1, k2]` (seed 002's `conv2d`, which flips with `[::-1, ::-1]`).
    /// Same shapes and arguments as `conv2d`.
    public static func trueConvolution2d(_ input: Tensor, kernel: Tensor, bias: Tensor? = nil, stride: Size2D = 1,
                                         padding: Padding = .valid, dilation: Size2D = 1, groups: Int = 1) throws -> Tensor {
        try conv2d(input, weight: try kernel.flippedSpatially(), bias: bias, stride: stride,
                   padding: padding, dilation: dilation, groups: groups)
    }
}
