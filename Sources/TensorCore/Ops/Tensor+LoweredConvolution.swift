import CFoveaKernels

/// The lowered convolution path (im2col + GEMM), forward and backward side by side.
///
/// Names: `K = Cg * kh * kw` rows of a group's column matrix, `P = OH * OW` output
/// positions per image, `CoG` output channels per group, `cols = images * P` columns of
/// a round.
///
/// The batch is cut into one contiguous run of images per thread (`plan.chunks`); each
/// thread lowers its images with im2col into one `[K, images*P]` matrix per group, a round
/// of at most `plan.perRound` images at a time. Large output planes (P >= 256) are then
/// multiplied image by image straight into NCHW, and a 1x1, stride-1, unpadded convolution
/// skips im2col altogether (an image is its own column matrix); small planes are multiplied
/// for all the images of a round in one GEMM, through a gather / scatter copy. Where the
/// plan says so, the columns are packed straight from the images instead of written out
/// (`implicitColumns`, `packsColumnsPerImage`). Backward lowers the images again, unless
/// the whole batch's columns were small enough to keep from the forward
/// (`plan.keepsColumns`); it forms each thread's weight gradient separately and adds the
/// partial sums in thread order, so results do not depend on timing.
struct LoweredConvolution {
    let plan: ConvolutionPlan
    let g: ConvGeometry
    let K, P, CoG, Cg, imageStride: Int
    /// Multiplied image by image; pointwise as well (each image its own column matrix).
    let perImage, pointwise: Bool
    /// The shape the C lowering kernels take (one group).
    let shape: fovea_conv_shape

    init(_ plan: ConvolutionPlan) {
        self.plan = plan
        g = plan.geometry
        K = g.patchSize
        P = g.outPlane
        CoG = g.groupOutChannels
        Cg = g.groupChannels
        imageStride = g.channels * g.height * g.width
        perImage = plan.multipliesImageByImage
        pointwise = perImage && g.isPointwise
        shape = g.loweringShape
    }

    /// Offset in the input of image `start`'s group `group`.
    func inputOffset(start: Int, group: Int) -> Int { start * imageStride + group * Cg * g.height * g.width }

    /// Runs `body(start, images)` for each round of chunk `chunk`'s run of images.
    func forEachRound(chunk: Int, _ body: (_ start: Int, _ images: Int) -> Void) {
        let n0 = g.batch * chunk / plan.chunks, n1 = g.batch * (chunk + 1) / plan.chunks
        let roundImages = Swift.min(plan.perRound, Swift.max(n1 - n0, 1))
        var start = n0
        while start < n1 {
            let images = Swift.min(roundImages, n1 - start)
            body(start, images)
            start += images
        }
    }
}

/// What one lowered forward reads and writes (see `Tensor.convolutionForward`).
struct LoweredForwardOperands {
    let input, weight: UnsafePointer<Float>
    let bias: UnsafePointer<Float>?
    let output: UnsafeMutablePointer<Float>
    let epilogue: ConvEpilogue?
    /// The per-image products' epilogue: the folded scales (nil: 1), and the folded shifts
    /// or the bias (nil: none).
    let epilogueScale, epilogueShift: UnsafePointer<Float>?
    let residual: UnsafePointer<Float>?
    /// The whole batch's column matrices, written for the backward.
    let columns: UnsafeMutablePointer<Float>?
    /// Columns packed from the images by the batched product, or by each per-image product.
    let implicit, implicitPerImage: Bool
}

/// What one lowered backward reads and writes (see `Tensor.convolutionBackward`).
struct LoweredBackwardOperands {
    let input, weight, dOutput: UnsafePointer<Float>
    let dInput: UnsafeMutablePointer<Float>?
    /// The column matrices the forward kept, if it did.
    let columns: UnsafePointer<Float>?
    /// Columns packed from the images by the batched products.
    let implicit: Bool
}

extension Tensor {
    /// The lowered forward on `plan`: each thread's rounds of images, each group lowered
    /// (or packed) and multiplied.
    static func loweredForward(_ plan: ConvolutionPlan, input: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                               bias: UnsafePointer<Float>?, output: UnsafeMutablePointer<Float>, epilogue: ConvEpilogue?,
                               residual: UnsafePointer<Float>?, columns: UnsafeMutablePointer<Float>?) {
        let L = LoweredConvolution(plan)
        // With implicit columns the scratch is only for lowering after all, should the
        // implicit product find no packing memory.
        let scratches = ChunkScratch(chunks: plan.chunks, count: L.K * plan.largestRound * L.P,
                                     needed: !L.pointwise && columns == nil)
        // The per-image products' epilogue: the folded batch norm's scales and shifts, copied
        // where pointers to them live through the region below, or the bias.
        let folded = UnsafeMutablePointer<Float>.allocate(capacity: 2 * (epilogue?.scale.count ?? 0))
        defer { folded.deallocate() }
        if let epilogue {
            folded.initialize(from: epilogue.scale, count: epilogue.scale.count)
            (folded + epilogue.scale.count).initialize(from: epilogue.shift, count: epilogue.shift.count)
        }
        // Kept columns must be written, so a caller that wants them gets im2col.
        let o = LoweredForwardOperands(input: input, weight: weight, bias: bias, output: output, epilogue: epilogue,
                                       epilogueScale: epilogue.map { _ in UnsafePointer(folded) },
                                       epilogueShift: epilogue.map { e in UnsafePointer(folded + e.scale.count) } ?? bias,
                                       residual: residual, columns: columns,
                                       implicit: columns == nil && plan.implicitColumns,
                                       implicitPerImage: columns == nil && L.perImage && plan.packsColumnsPerImage)
        let tmps = ChunkScratch(chunks: plan.chunks, count: L.CoG * plan.largestRound * L.P, needed: !L.perImage)
        Parallel.forEachChunk(plan.chunks) { chunk in
            let scratch = scratches.buffer(chunk), tmp = tmps.buffer(chunk)
            L.forEachRound(chunk: chunk) { start, images in
                for group in 0..<L.g.groups {
                    loweredForwardGroup(L, o, start: start, images: images, group: group, scratch: scratch, tmp: tmp)
                }
            }
        }
    }

    /// The lowered backward on `plan`: each thread's rounds of images, each group's columns
    /// lowered again (unless kept, or packed implicitly), its weight gradient into the
    /// thread's partial sum and its input gradient added into `dInput`.
    static func loweredBackward(_ plan: ConvolutionPlan, input: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                                dOutput: UnsafePointer<Float>, dInput: UnsafeMutablePointer<Float>?,
                                dWeight: UnsafeMutablePointer<Float>?, columns: UnsafePointer<Float>?) {
        let L = LoweredConvolution(plan)
        let o = LoweredBackwardOperands(input: input, weight: weight, dOutput: dOutput, dInput: dInput, columns: columns,
                                        implicit: columns == nil && plan.implicitColumns)
        let weightCount = L.g.outChannels * L.K
        // One weight-gradient buffer per chunk, summed in chunk order afterwards.
        let partials = dWeight == nil ? nil : TensorStorage(count: weightCount * plan.chunks)
        // Scratch for the lowered columns (unless the forward kept them) and the column
        // gradient; with kept columns the two are different buffers, and the kept ones are
        // only read.
        let scratches = ChunkScratch(chunks: plan.chunks, count: L.K * plan.largestRound * L.P,
                                     needed: !(L.pointwise || (columns != nil && dInput == nil)))
        let dOutGs = ChunkScratch(chunks: plan.chunks, count: L.CoG * plan.largestRound * L.P, needed: !L.perImage)
        Parallel.forEachChunk(plan.chunks) { chunk in
            let scratch = scratches.buffer(chunk), dOutG = dOutGs.buffer(chunk)
            let weightGrad = partials.map { $0.pointer + chunk * weightCount }
            L.forEachRound(chunk: chunk) { start, images in
                for group in 0..<L.g.groups {
                    loweredBackwardGroup(L, o, start: start, images: images, group: group, scratch: scratch, dOutG: dOutG,
                                         weightGrad: weightGrad)
                }
            }
        }
        if let dWeight, let partials { sumPartials(partials, chunks: plan.chunks, count: weightCount, into: dWeight) }
    }

    /// One group of one forward round: its columns lowered (unless packed implicitly, or
    /// pointwise), then multiplied image by image or for the whole round at once.
    static func loweredForwardGroup(_ L: LoweredConvolution, _ o: LoweredForwardOperands, start: Int, images: Int,
                                    group grp: Int, scratch: UnsafeMutablePointer<Float>?, tmp: UnsafeMutablePointer<Float>?) {
        let cols = images * L.P
        let groupInput = o.input + L.inputOffset(start: start, group: grp)
        let groupWeight = o.weight + grp * L.CoG * L.K
        // This round's columns: kept for the backward, or in the scratch buffer.
        let col = L.pointwise ? nil : o.columns.map { $0 + (grp * L.g.batch + start) * L.K * L.P } ?? scratch!
        // tmp[CoG, cols] = W_g · col, the columns packed from the images.
        var shape = L.shape
        let packedImplicitly = o.implicit && fovea_implicit_forward(&shape, groupInput, L.imageStride, images, L.CoG,
                                                                      groupWeight, L.K, tmp!, cols) != 0
        if let col, !packedImplicitly, !o.implicitPerImage {
            Im2Col.im2col(L.g, input: groupInput, imageStride: L.imageStride, images: images, col: col, ldc: cols,
                          threads: L.plan.gemmThreads)
        }
        if L.perImage {
            loweredForwardImages(L, o, start: start, images: images, group: grp, col: col)
        } else if let col, let tmp {
            if !packedImplicitly {
                GEMM.sgemm(m: L.CoG, n: cols, k: L.K, a: groupWeight, lda: L.K,
                           b: col, ldb: cols, c: tmp, ldc: cols, threads: L.plan.gemmThreads)
            }
            scatterRound(L, o, start: start, images: images, group: grp, from: tmp)
        }
    }

    /// One group of one backward round: its columns lowered again where the weight gradient
    /// needs them (unless kept, or packed implicitly), then both gradients image by image
    /// or for the whole round at once.
    static func loweredBackwardGroup(_ L: LoweredConvolution, _ o: LoweredBackwardOperands, start: Int, images: Int,
                                     group grp: Int, scratch: UnsafeMutablePointer<Float>?, dOutG: UnsafeMutablePointer<Float>?,
                                     weightGrad: UnsafeMutablePointer<Float>?) {
        let kept = o.columns.map { $0 + (grp * L.g.batch + start) * L.K * L.P }
        let col: UnsafePointer<Float>? = L.pointwise ? nil : kept ?? UnsafePointer(scratch!)
        if kept == nil, !o.implicit, let dst = scratch, weightGrad != nil {
            Im2Col.im2col(L.g, input: o.input + L.inputOffset(start: start, group: grp), imageStride: L.imageStride,
                          images: images, col: dst, ldc: images * L.P)
        }
        if L.perImage {
            loweredBackwardImages(L, o, start: start, images: images, group: grp, col: col, dcol: scratch, weightGrad: weightGrad)
        } else if let col, let dOutG {
            gatherRound(L, o.dOutput, start: start, images: images, group: grp, into: dOutG)
            if let weightGrad {
                loweredWeightGradientRound(L, o, start: start, images: images, group: grp, dOutG: dOutG, col: col,
                                           scratch: scratch, weightGrad: weightGrad)
            }
            if let dInput = o.dInput, let dcol = scratch {
                loweredInputGradientRound(L, o, start: start, images: images, group: grp, dOutG: dOutG, dcol: dcol,
                                          dInput: dInput)
            }
        }
    }

    /// `Y_b[CoG, P] = W_g[CoG, K] · col_b[K, P]` for each image of a round, written straight
    /// into NCHW; the epilogue (or the bias), and the residual, meet each block of the output
    /// while the product has it in cache. `col`: the round's columns (nil when pointwise: the
    /// image itself), or the scratch the per-image packing pads into.
    static func loweredForwardImages(_ L: LoweredConvolution, _ o: LoweredForwardOperands, start: Int, images: Int,
                                     group grp: Int, col: UnsafeMutablePointer<Float>?) {
        let P = L.P, CoG = L.CoG, cols = images * P
        let groupInput = o.input + L.inputOffset(start: start, group: grp)
        let groupWeight = o.weight + grp * CoG * L.K
        for b in 0..<images {
            let firstOutput = ((start + b) * L.g.outChannels + grp * CoG) * P
            let dst = o.output + firstOutput
            let blockEpilogue = o.epilogueShift.map { shift in
                GEMM.Epilogue(scale: o.epilogueScale.map { $0 + grp * CoG }, shift: shift + grp * CoG,
                              residual: o.residual.map { $0 + firstOutput }, residualStride: P,
                              relu: o.epilogue?.relu ?? false)
            }
            if o.implicitPerImage, let col {
                multiplyImagePackingColumns(L.g, image: groupInput + b * L.imageStride, imageStride: L.imageStride,
                                            weight: groupWeight, output: dst, epilogue: blockEpilogue,
                                            scratch: col, threads: L.plan.gemmThreads)
                continue
            }
            // Its columns: the image itself when pointwise.
            let colB = col.map { UnsafePointer($0 + b * P) } ?? groupInput + b * L.imageStride
            GEMM.sgemm(m: CoG, n: P, k: L.K, a: groupWeight, lda: L.K, b: colB, ldb: col == nil ? P : cols,
                       c: dst, ldc: P, threads: L.plan.gemmThreads, epilogue: blockEpilogue)
        }
    }

    /// Both gradients of a round image by image, reading and writing NCHW in place:
    /// `dW_g[CoG, K] += dOut_b[CoG, P] · col_bᵀ[P, K]` and `dcol_b[K, P] = W_gᵀ[K, CoG] ·
    /// dOut_b[CoG, P]`, then col2im. Pointwise (`col` and `dcol` nil), the image is its own
    /// column matrix and the column gradient its input gradient, added in place.
    static func loweredBackwardImages(_ L: LoweredConvolution, _ o: LoweredBackwardOperands, start: Int, images: Int,
                                      group grp: Int, col: UnsafePointer<Float>?, dcol: UnsafeMutablePointer<Float>?,
                                      weightGrad: UnsafeMutablePointer<Float>?) {
        let P = L.P, K = L.K, CoG = L.CoG, cols = images * P, threads = L.plan.gemmThreads
        let inputOffset = L.inputOffset(start: start, group: grp)
        let groupWeight = o.weight + grp * CoG * K
        for b in 0..<images {
            // This image's output gradient, [CoG, P] in place.
            let dOutB = o.dOutput + ((start + b) * L.g.outChannels + grp * CoG) * P
            // Its columns: the image itself when pointwise.
            let colB = col.map { $0 + b * P } ?? o.input + inputOffset + b * L.imageStride
            if let weightGrad {
                GEMM.sgemm(transB: true, m: CoG, n: K, k: P, a: dOutB, lda: P, b: colB, ldb: col == nil ? P : cols,
                           beta: 1, c: weightGrad + grp * CoG * K, ldc: K, threads: threads)
            }
            if let dInput = o.dInput {
                let (dst, ldd, beta): (UnsafeMutablePointer<Float>, Int, Float) = dcol.map { ($0 + b * P, cols, 0) }
                    ?? (dInput + inputOffset + b * L.imageStride, P, 1)
                GEMM.sgemm(transA: true, m: K, n: P, k: CoG, a: groupWeight, lda: K, b: dOutB, ldb: P,
                           beta: beta, c: dst, ldc: ldd, threads: threads)
            }
        }
        if let dInput = o.dInput, let dcol {
            Im2Col.col2im(L.g, col: dcol, ldc: cols, images: images, input: dInput + inputOffset, imageStride: L.imageStride)
        }
    }

    /// Scatters a round's product `tmp[CoG, images*P]` into NCHW, adding the bias, then
    /// applies the epilogue to each image's planes.
    static func scatterRound(_ L: LoweredConvolution, _ o: LoweredForwardOperands, start: Int, images: Int, group grp: Int,
                             from tmp: UnsafeMutablePointer<Float>) {
        let P = L.P, CoG = L.CoG, cols = images * P
        for b in 0..<images {
            for co in 0..<CoG {
                let oc = grp * CoG + co
                let dst = o.output + ((start + b) * L.g.outChannels + oc) * P
                let src = tmp + co * cols + b * P
                let bv = o.bias?[oc] ?? 0
                for p in 0..<P { dst[p] = src[p] + bv }
            }
            if let epilogue = o.epilogue {
                epilogue.apply(to: o.output + ((start + b) * L.g.outChannels + grp * CoG) * P,
                               firstChannel: grp * CoG, channels: 0..<CoG, plane: P)
            }
        }
    }

    /// Gathers a round's output gradient of group `grp` as `[CoG, images*P]`: the backward's
    /// counterpart of `scatterRound`.
    static func gatherRound(_ L: LoweredConvolution, _ dOutput: UnsafePointer<Float>, start: Int, images: Int, group grp: Int,
                            into dOutG: UnsafeMutablePointer<Float>) {
        let P = L.P, CoG = L.CoG, cols = images * P
        for b in 0..<images {
            for co in 0..<CoG {
                (dOutG + co * cols + b * P).update(from: dOutput + ((start + b) * L.g.outChannels + grp * CoG + co) * P, count: P)
            }
        }
    }

    /// `dW_g[CoG, K] += dOut_g[CoG, cols] · colᵀ[cols, K]` for a round, the columns packed
    /// from the images when implicit (else lowered already, or now into `scratch` if the
    /// implicit product found no packing memory).
    static func loweredWeightGradientRound(_ L: LoweredConvolution, _ o: LoweredBackwardOperands, start: Int, images: Int,
                                           group grp: Int, dOutG: UnsafeMutablePointer<Float>, col: UnsafePointer<Float>,
                                           scratch: UnsafeMutablePointer<Float>?, weightGrad: UnsafeMutablePointer<Float>) {
        let cols = images * L.P
        let groupInput = o.input + L.inputOffset(start: start, group: grp)
        let dw = weightGrad + grp * L.CoG * L.K
        var shape = L.shape
        let done = o.implicit && fovea_implicit_weight_grad(&shape, groupInput, L.imageStride, images, L.CoG,
                                                            dOutG, cols, 1, dw, L.K) != 0
        if done { return }
        if o.implicit, let dst = scratch {
            Im2Col.im2col(L.g, input: groupInput, imageStride: L.imageStride, images: images, col: dst, ldc: cols)
        }
        GEMM.sgemm(transB: true, m: L.CoG, n: L.K, k: cols, a: dOutG, lda: cols,
                   b: col, ldb: cols, beta: 1, c: dw, ldc: L.K, threads: L.plan.gemmThreads)
    }

    /// `dcol[K, cols] = W_gᵀ[K, CoG] · dOut_g[CoG, cols]` for a round, scatter-added to the
    /// pixels: tile by tile when implicit, else written out into `dcol`, then col2im.
    static func loweredInputGradientRound(_ L: LoweredConvolution, _ o: LoweredBackwardOperands, start: Int, images: Int,
                                          group grp: Int, dOutG: UnsafeMutablePointer<Float>,
                                          dcol: UnsafeMutablePointer<Float>, dInput: UnsafeMutablePointer<Float>) {
        let cols = images * L.P
        let groupWeight = o.weight + grp * L.CoG * L.K
        let groupGradient = dInput + L.inputOffset(start: start, group: grp)
        var shape = L.shape
        let done = o.implicit && fovea_implicit_input_grad(&shape, dOutG, cols, images, L.CoG, groupWeight, L.K,
                                                           groupGradient, L.imageStride) != 0
        if done { return }
        GEMM.sgemm(transA: true, m: L.K, n: cols, k: L.CoG, a: groupWeight, lda: L.K,
                   b: dOutG, ldb: cols, c: dcol, ldc: cols, threads: L.plan.gemmThreads)
        Im2Col.col2im(L.g, col: dcol, ldc: cols, images: images, input: groupGradient, imageStride: L.imageStride)
    }

    /// One image's group of a convolution whose plan `packsColumnsPerImage`: `output[CoG, P] =
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
}
