import CFoveaKernels

/// Winograd F(2x2, 3x3) for 3x3, stride-1, undilated, ungrouped convolutions (`winograd.c`):
/// 16 multiplies per 2x2 outputs and channel pair instead of 36, so the products shrink by
/// 2.25x for the price of transforming the kernels, the input tiles and the output tiles.
///
/// The forward (`conv2d`, `conv2dReLU`, the inference fusions with batch norm); the input
/// gradient, which for stride 1 is itself a 3x3 convolution of the output gradient with the
/// kernels rotated by 180 degrees and their two channel axes swapped, padded by `2 - p`
/// (`dX = conv(dY, rot180(W)ᵀ)`); and the weight gradient, `G^T (Σ_t Z_t ⊙ V_t) G` with
/// `Z_t = A dY_t Aᵀ` the output gradient's 2x2 tiles lifted to 4x4 and `V_t` the forward's
/// transformed input tiles (the adjoint of `Y_t = Aᵀ (U ⊙ V_t) A`, `U = G g Gᵀ`).
///
/// Taken where the saving pays for the kernel transform: at least 16 input and 16 output
/// channels and `winogradMinimumOutputs` output positions per call (`batch * OH * OW`).
/// Measured on ResNet shapes at batch 1 (a C harness against im2col + GEMM, kernel
/// transform included): 1.6x on 56x56 and 28x28 planes of 64 and 128 channels, 1.0-1.2x on
/// 14x14 planes of 256, and 0.5x on 7x7 planes of 512, where transforming 2.4M weights into
/// 4.2M cost more than the products saved.
extension Tensor {
    /// Fewest output positions (`batch * OH * OW`) for which a convolution goes Winograd.
    static let winogradMinimumOutputs = 400

    // Which geometries take it: `ConvolutionPlan.suitsWinograd` and
    // `suitsWinogradInputGradient`; the weight gradient goes Winograd where the forward does.

    /// Forward: `output = epilogue(conv(input, weight))` (or `+ bias`), `[N, Cout, OH, OW]`.
    static func winogradForward(_ g: ConvGeometry, input: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                                bias: UnsafePointer<Float>?, output: UnsafeMutablePointer<Float>, epilogue: ConvEpilogue?,
                                threads: Int) {
        let run = { (scale: UnsafePointer<Float>?, shift: UnsafePointer<Float>?, relu: Bool) in
            winogradConvolve(batch: g.batch, inChannels: g.channels, height: g.height, width: g.width,
                             outChannels: g.outChannels, outHeight: g.outHeight, outWidth: g.outWidth,
                             padTop: g.padTop, padLeft: g.padLeft, input: input,
                             kernels: weight, kernelStrides: (g.channels * 9, 9), flip: false,
                             output: output, scale: scale, shift: shift, relu: relu, accumulate: false, threads: threads)
        }
        if let epilogue {
            epilogue.scale.withUnsafeBufferPointer { s in
                epilogue.shift.withUnsafeBufferPointer { t in run(s.baseAddress, t.baseAddress, epilogue.relu) }
            }
        } else {
            run(nil, bias, false)
        }
    }

    /// Input gradient: `dInput += conv(dOutput, rot180(W)ᵀ)` with padding `2 - p`, `[N, C, H, W]`.
    static func winogradInputGradient(_ g: ConvGeometry, weight: UnsafePointer<Float>, dOutput: UnsafePointer<Float>,
                                      dInput: UnsafeMutablePointer<Float>, threads: Int) {
        // Kernel (a = input channel, b = output channel) is W[b][a], rotated.
        winogradConvolve(batch: g.batch, inChannels: g.outChannels, height: g.outHeight, width: g.outWidth,
                         outChannels: g.channels, outHeight: g.height, outWidth: g.width,
                         padTop: 2 - g.padTop, padLeft: 2 - g.padLeft, input: dOutput,
                         kernels: weight, kernelStrides: (9, g.channels * 9), flip: true,
                         output: dInput, scale: nil, shift: nil, relu: false, accumulate: true, threads: threads)
    }

    /// Weight gradient: `dWeight = Σ_{n,h,w} dOutput ⊗ input patches`, `[Cout, C, 3, 3]`,
    /// overwritten. Blocks of tiles are split over threads in contiguous runs; each thread
    /// sums its runs' products in the transformed domain (`fovea_winograd_grad_block`), and
    /// the threads' sums are added in thread order as the 3x3 gradients are formed.
    static func winogradWeightGradient(_ g: ConvGeometry, input: UnsafePointer<Float>, dOutput: UnsafePointer<Float>,
                                       dWeight: UnsafeMutablePointer<Float>, threads: Int) {
        let Ci = g.channels, Co = g.outChannels
        var shape = fovea_winograd_shape(Ci: Ci, H: g.height, W: g.width, OH: g.outHeight, OW: g.outWidth,
                                         pt: g.padTop, pl: g.padLeft, tH: (g.outHeight + 1) / 2, tW: (g.outWidth + 1) / 2)
        let tiles = g.batch * shape.tH * shape.tW
        // The sums over a block are a GEMM whose depth is the block's tiles, and whose
        // output, 16 Co x Ci matrices, is read and written once per block: blocks of at
        // least 128 tiles keep that traffic small against the multiply-adds.
        let blockTiles = Swift.min(tiles, Swift.min(512, Swift.max(128, (1 << 15) / (Ci + Co))) & ~15)
        let blocks = (tiles + blockTiles - 1) / blockTiles
        let parallel = threads > 1 && g.batch * g.outPlane * Ci * Co * 9 >= GEMM.parallelThreshold
        let chunks = parallel ? Swift.min(threads, blocks) : 1
        let setSize = 16 * Co * Ci
        let sums = TensorStorage(count: chunks * setSize, zeroed: false)
        let scratches = ChunkScratch(chunks: chunks, count: Int(fovea_winograd_grad_scratch(&shape, Co, blockTiles)))
        let dU = UncheckedSendable(sums.pointer)
        Parallel.forEachChunk(chunks) { c in
            var s = shape
            let scratch = scratches.buffer(c)!
            for block in blocks * c / chunks..<blocks * (c + 1) / chunks {
                let p0 = block * blockTiles
                fovea_winograd_grad_block(&s, input, Ci * g.height * g.width, dOutput, Co, Co * g.outPlane, p0,
                                          Swift.min(blockTiles, tiles - p0), block == blocks * c / chunks ? 0 : 1,
                                          dU.value + c * setSize, scratch)
            }
        }
        let dw = UncheckedSendable(dWeight)
        let finishChunks = parallel ? Swift.min(threads, Co) : 1
        Parallel.forEachChunk(finishChunks) { c in
            fovea_winograd_grad_finish(Co, Ci, dU.value, chunks, setSize, Co * c / finishChunks, Co * (c + 1) / finishChunks,
                                       dw.value, Ci * 9, 9)
        }
        withExtendedLifetime(sums) {}
    }

    /// `output (+)= relu?(scale * conv3x3(input, kernels) + shift)` over a batch, by Winograd,
    /// split over `threads` threads.
    /// Kernel (a, b) for output channel a and input channel b is the 3x3 block at
    /// `kernels + a * kernelStrides.a + b * kernelStrides.b`, rotated by 180 degrees when `flip`.
    static func winogradConvolve(batch: Int, inChannels Ci: Int, height H: Int, width W: Int,
                                 outChannels Co: Int, outHeight OH: Int, outWidth OW: Int, padTop: Int, padLeft: Int,
                                 input: UnsafePointer<Float>, kernels: UnsafePointer<Float>, kernelStrides: (a: Int, b: Int),
                                 flip: Bool, output: UnsafeMutablePointer<Float>, scale: UnsafePointer<Float>?,
                                 shift: UnsafePointer<Float>?, relu: Bool, accumulate: Bool, threads: Int) {
        let work = batch * OH * OW * Ci * Co * 9
        let parallel = threads > 1 && work >= GEMM.parallelThreshold

        // U: the 16 transformed kernel matrices, packed for the GEMM, rows split over threads
        // by whole 6-row slivers.
        let slivers = (Co + 5) / 6
        let transformed = TensorStorage(count: fovea_winograd_weights_size(Co, Ci), zeroed: false)
        let U = UncheckedSendable(transformed.pointer)
        let kernelChunks = parallel && Ci * Co >= 4096 ? Swift.min(threads, slivers) : 1
        Parallel.forEachChunk(kernelChunks) { c in
            let a0 = slivers * c / kernelChunks * 6, a1 = slivers * (c + 1) / kernelChunks * 6
            fovea_winograd_weights(Co, Ci, kernels, kernelStrides.a, kernelStrides.b, flip ? 1 : 0, a0, a1, U.value)
        }

        // Blocks of tiles small enough that a block's transformed input and products stay in
        // cache (16 * (Ci + Co) * tiles floats, about 1 MiB), and when there are fewer blocks
        // than threads, output channels split by slivers as well.
        var shape = fovea_winograd_shape(Ci: Ci, H: H, W: W, OH: OH, OW: OW, pt: padTop, pl: padLeft,
                                         tH: (OH + 1) / 2, tW: (OW + 1) / 2)
        let tiles = batch * shape.tH * shape.tW
        let blockTiles = Swift.min(tiles, Swift.max(64, (1 << 14) / (Ci + Co) + 15) & ~15)
        let blocks = (tiles + blockTiles - 1) / blockTiles
        let groups = parallel && blocks < threads ? Swift.min(slivers, threads / blocks) : 1
        let items = blocks * groups
        let chunks = parallel ? Swift.min(threads, items) : 1
        let groupRows = (slivers + groups - 1) / groups * 6
        let scratches = ChunkScratch(chunks: chunks,
                                     count: Int(fovea_winograd_block_scratch(&shape, Swift.min(Co, groupRows), blockTiles)))
        let y = UncheckedSendable(output)
        Parallel.forEachChunk(chunks) { c in
            var s = shape
            let scratch = scratches.buffer(c)!
            // Work items c, c + chunks, ...: item = block * groups + group.
            for item in stride(from: c, to: items, by: chunks) {
                let block = item / groups, group = item % groups
                let p0 = block * blockTiles, count = Swift.min(blockTiles, tiles - p0)
                let co0 = group * groupRows, coCount = Swift.min(groupRows, Co - co0)
                guard coCount > 0 else { continue }
                fovea_winograd_block(&s, input, Ci * H * W, U.value, Co, co0, coCount, p0, count, y.value, Co * OH * OW,
                                     scale, shift, relu ? 1 : 0, accumulate ? 1 : 0, scratch)
            }
        }
        withExtendedLifetime(transformed) {}
    }
}
