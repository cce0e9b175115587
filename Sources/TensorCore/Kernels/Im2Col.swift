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

enum Im2Col {
    /// Writes the column matrix of `images` consecutive images (each `Cg x H x W`, `imageStride`
    /// floats apart) into `col` (`[K, images * P]`, row stride `ldc`).
    static func im2col(_ g: ConvGeometry, input: UnsafePointer<Float>, imageStride: Int, images: Int,
                       col: UnsafeMutablePointer<Float>, ldc: Int) {
        let H = g.height, W = g.width, OH = g.outHeight, OW = g.outWidth, P = g.outPlane
        let kh = g.kernel.h, kw = g.kernel.w, sh = g.stride.h, sw = g.stride.w
        let dh = g.dilation.h, dw = g.dilation.w, pt = g.padTop, pl = g.padLeft
        for c in 0..<g.groupChannels {
            for i in 0..<kh {
                for j in 0..<kw {
                    let row = col + ((c * kh + i) * kw + j) * ldc
                    // Output columns whose input column is inside the image: ow in [owLo, owHi).
                    let offW = j * dw - pl
                    let owLo = offW >= 0 ? 0 : Swift.min(OW, (-offW + sw - 1) / sw)
                    let owHi = Swift.max(owLo, Swift.min(OW, W - offW > 0 ? (W - offW + sw - 1) / sw : 0))
                    for b in 0..<images {
                        let src = input + b * imageStride + c * H * W
                        let dstImage = row + b * P
                        for oh in 0..<OH {
                            let ih = oh * sh - pt + i * dh
                            let dst = dstImage + oh * OW
                            if ih < 0 || ih >= H { dst.update(repeating: 0, count: OW); continue }
                            let srcRow = src + ih * W + offW
                            for ow in 0..<owLo { dst[ow] = 0 }
                            if sw == 1 {
                                (dst + owLo).update(from: srcRow + owLo, count: owHi - owLo)
                            } else {
                                for ow in owLo..<owHi { dst[ow] = srcRow[ow * sw] }
                            }
                            for ow in owHi..<OW { dst[ow] = 0 }
                        }
                    }
                }
            }
        }
    }

    /// Adds the column-matrix gradient `col` back onto the images' gradient `input`
    /// (the adjoint of `im2col`): every tap's value goes to the pixel it was read from.
    static func col2im(_ g: ConvGeometry, col: UnsafePointer<Float>, ldc: Int, images: Int,
                       input: UnsafeMutablePointer<Float>, imageStride: Int) {
        let H = g.height, W = g.width, OH = g.outHeight, OW = g.outWidth, P = g.outPlane
        let kh = g.kernel.h, kw = g.kernel.w, sh = g.stride.h, sw = g.stride.w
        let dh = g.dilation.h, dw = g.dilation.w, pt = g.padTop, pl = g.padLeft
        for c in 0..<g.groupChannels {
            for i in 0..<kh {
                for j in 0..<kw {
                    let row = col + ((c * kh + i) * kw + j) * ldc
                    let offW = j * dw - pl
                    let owLo = offW >= 0 ? 0 : Swift.min(OW, (-offW + sw - 1) / sw)
                    let owHi = Swift.max(owLo, Swift.min(OW, W - offW > 0 ? (W - offW + sw - 1) / sw : 0))
                    for b in 0..<images {
                        let dstImage = input + b * imageStride + c * H * W
                        let srcImage = row + b * P
                        for oh in 0..<OH {
                            let ih = oh * sh - pt + i * dh
                            if ih < 0 || ih >= H { continue }
                            let dstRow = dstImage + ih * W + offW
                            let src = srcImage + oh * OW
                            if sw == 1 {
                                for ow in owLo..<owHi { dstRow[ow] += src[ow] }
                            } else {
                                for ow in owLo..<owHi { dstRow[ow * sw] += src[ow] }
                            }
                        }
                    }
                }
            }
        }
    }
}
