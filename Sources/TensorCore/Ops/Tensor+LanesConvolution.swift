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
    /// 8-float FMAs per tap than the wide path, with one group and no method forced.
    /// `conv2dReLUMaxPool2x2` asks it at inference, once the geometry takes the direct
    /// kernels (stride 1) with an even output.
    /// Per tap, the wide kernels issue 2 FMAs per channel row per 16 wide positions (rows
    /// in blocks of 6, a last block of at most 4 costing 4); the lanes kernel issues one per
    /// 8 channels (rounded up to 16) per kept position. LeNet-5's second layer: 288 against
    /// 200; its first (6 channels, 28x28 in 32-wide rows): 672 against 1568.
    public static func usesLanesPooling(_ g: ConvGeometry) -> Bool {
        guard g.groups == 1, forcedConvolutionMethod == .automatic || forcedConvolutionMethod == .winograd else {
            return false
        }
        let d = DirectConvolution(g), M = g.outChannels, rest = M % 6
        let wideRows = M / 6 * 6 + (rest == 0 ? 0 : rest <= 4 ? 4 : 6)
        let wide = (d.L + 15) / 16 * 2 * wideRows
        let lanes = g.outPlane * fovea_lanes_width(M) / 8
        return lanes < wide
    }

    /// `maxpool2x2(max(0, conv + bias))` on raw NCHW buffers, `[N, Cout, OH / 2, OW / 2]`
    /// (stride 1, one group, even OH and OW). Images padded first when the convolution pads;
    /// unpadded ones are read in place. Threads take runs of images.
    static func lanesPooledForward(_ g: ConvGeometry, input: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                                   bias: UnsafePointer<Float>?, output: UnsafeMutablePointer<Float>) {
        let d = DirectConvolution(g)
        let M = g.outChannels, T = g.patchSize, width = fovea_lanes_width(M)
        let OH = g.outHeight / 2, OW = g.outWidth / 2
        let packed = TensorStorage(count: T * width, zeroed: false)
        fovea_lanes_pack(M, T, weight, T, packed.pointer)
        let pads = g.padTop + g.padBottom + g.padLeft + g.padRight > 0
        let imageStride = g.channels * g.height * g.width
        let work = g.batch * g.outPlane * T * M
        let chunks = work < GEMM.parallelThreshold ? 1 : Swift.max(1, Swift.min(Parallel.threadCount, g.batch))
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
