import CFoveaKernels

/// im2col and its adjoint col2im: the lowering that turns a convolution into one GEMM.
///
/// Names used in this file:
///   Cg        input channels of one group
///   H, W      input height and width;  OH, OW output height and width;  P = OH * OW
///   kh, kw    kernel size;  sh, sw stride;  pt, pl top/left padding;  dh, dw dilation
///   K         Cg * kh * kw, the rows of the column matrix
/// The column matrix of one image is `[K, P]`: row (c, i, j) holds, for every output
/// position, the input pixel under kernel tap (i, j) of channel c (0 where it falls in the
/// padding). Several images sit side by side: image b's columns start at `b * P`, and `ldc`
/// is the row stride of the whole matrix.

/// The geometry of a 2-D convolution, computed and checked once per call.
public struct ConvGeometry: Sendable, Equatable {
    public var batch, channels, height, width: Int
    public var outChannels, groups: Int
    public var kernel, stride, dilation: Size2D
    public var padTop, padBottom, padLeft, padRight: Int
    public var outHeight, outWidth: Int

    /// Input channels per group.
    public var groupChannels: Int { channels / groups }
    /// Output channels per group.
    public var groupOutChannels: Int { outChannels / groups }
    /// Rows of a group's column matrix: `Cg * kh * kw`.
    public var patchSize: Int { groupChannels * kernel.h * kernel.w }
    /// Output positions per image.
    public var outPlane: Int { outHeight * outWidth }
}

extension ConvGeometry {
    /// A 1x1 convolution with stride 1 and no padding: the column matrix of an image is
    /// the image itself (`[Cg, H*W]`), so the GEMMs read and write the tensors in place.
    public var isPointwise: Bool {
        kernel.h == 1 && kernel.w == 1 && stride.h == 1 && stride.w == 1 &&
            padTop == 0 && padBottom == 0 && padLeft == 0 && padRight == 0
    }

    /// The shape the C lowering kernels take (one group).
    var loweringShape: fovea_conv_shape {
        fovea_conv_shape(channels: groupChannels, height: height, width: width,
                         out_height: outHeight, out_width: outWidth,
                         kh: kernel.h, kw: kernel.w, sh: stride.h, sw: stride.w,
                         dh: dilation.h, dw: dilation.w, pt: padTop, pl: padLeft)
    }
}

/// Thin wrappers over the C kernels (`lowering.c`), which work on whole runs of a row.
enum Im2Col {
    /// Writes the column matrix of `images` consecutive images (each `Cg x H x W`, `imageStride`
    /// floats apart) into `col` (`[K, images * P]`, row stride `ldc`).
    /// With `threads` > 1 and a large matrix (single-image inference), the channels are
    /// split over threads: each lowers its own rows, and the kernel never writes past the
    /// last row of its call.
    static func im2col(_ g: ConvGeometry, input: UnsafePointer<Float>, imageStride: Int, images: Int,
                       col: UnsafeMutablePointer<Float>, ldc: Int, threads: Int = 1) {
        let Cg = g.groupChannels, taps = g.kernel.h * g.kernel.w, plane = g.height * g.width
        let chunks = threads > 1 && Cg * taps * images * g.outPlane >= 1 << 16 ? Swift.min(threads, Cg) : 1
        let cols = UncheckedSendable(col)
        Parallel.forEachChunk(chunks) { chunk in
            let c0 = Cg * chunk / chunks, c1 = Cg * (chunk + 1) / chunks
            var shape = g.loweringShape
            shape.channels = c1 - c0
            fovea_im2col(&shape, input + c0 * plane, imageStride, images, cols.value + c0 * taps * ldc, ldc)
        }
    }

    /// Adds the column-matrix gradient `col` back onto the images' gradient `input`
    /// (the adjoint of `im2col`): every tap's value goes to the pixel it was read from.
    static func col2im(_ g: ConvGeometry, col: UnsafePointer<Float>, ldc: Int, images: Int,
                       input: UnsafeMutablePointer<Float>, imageStride: Int) {
        var shape = g.loweringShape
        fovea_col2im(&shape, col, ldc, images, input, imageStride)
    }
}
