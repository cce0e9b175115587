import CFoveaKernels

/// Convolution + bias + ReLU + 2x2 max pooling at inference with the output channels across
/// the vector lanes (`direct_lanes.c`): `conv2dReLUMaxPool2x2`'s forward where no gradient
/// is wanted and this computes fewer multiply-adds than the wide kernels (LeNet-5's second
/// layer). Forward only: training keeps the wide kernels, whose pooling also records each
/// window's argmax for the backward.
///
/// The wide kernels compute every position of whole 16-wide runs of the padded plane, so a
/// 10x10 output in 14-wide rows costs 144 positions for 100 kept, and their 6-row tiles
/// round the channels up. Here a tile is one pooling window's four positions times 16
/// channels: only kept positions are computed, and the channels round up to 16.
extension Tensor {
    /// Whether the lanes kernel would compute this geometry's pooled forward with fewer
    /// 8-float FMAs per tap than the wide path, under the task's options: the plan's
    /// `lanesPooling` (see `ConvolutionPlan.suitsLanes` for the count).
    public static func usesLanesPooling(_ g: ConvGeometry) -> Bool {
        ConvolutionPlan.suitsLanes(g, ConvolutionOptions.current.method)
    }

    /// `maxpool2x2(max(0, conv + bias))` on raw NCHW buffers, `[N, Cout, OH / 2, OW / 2]`
    /// (stride 1, one group, even OH and OW). Images padded first when the convolution pads;
    /// unpadded ones are read in place. Runs of images split over `threads` threads.
    static func lanesPooledForward(_ g: ConvGeometry, input: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                                   bias: UnsafePointer<Float>?, output: UnsafeMutablePointer<Float>, threads: Int) {
        let d = DirectConvolution(g)
        let M = g.outChannels, T = g.patchSize, width = fovea_lanes_width(M)
        let OH = g.outHeight / 2, OW = g.outWidth / 2
        let packed = TensorStorage(count: T * width, zeroed: false)
        fovea_lanes_pack(M, T, weight, T, packed.pointer)
        let pads = g.padTop + g.padBottom + g.padLeft + g.padRight > 0
        let imageStride = g.channels * g.height * g.width
        let work = g.batch * g.outPlane * T * M
        let chunks = work < GEMM.parallelThreshold ? 1 : Swift.max(1, Swift.min(threads, g.batch))
        let padded = ChunkScratch(chunks: chunks, count: d.paddedImage, needed: pads)
        let pooled = ChunkScratch(chunks: chunks, count: OH * OW * width)
        d.withForwardOffsets { off in
            Parallel.forEachChunk(chunks) { chunk in
                guard let scratch = pooled.buffer(chunk) else { return }
                for n in (g.batch * chunk / chunks)..<(g.batch * (chunk + 1) / chunks) {
                    var image = input + n * imageStride
                    if let own = padded.buffer(chunk) {
                        d.pad(image, images: 1, into: own)
                        image = UnsafePointer(own)
                    }
                    fovea_lanes_conv_maxpool_relu(M, T, off, packed.pointer, image, d.Wp, OH, OW, bias,
                                                  scratch, output + n * M * OH * OW)
                }
            }
        }
    }
}
