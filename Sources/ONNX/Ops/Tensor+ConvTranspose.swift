import TensorCore

/// Transposed 2-D convolution (ONNX `ConvTranspose`, PyTorch's `conv_transpose2d`), built on
/// the convolution kernels: it is the gradient of a convolution with respect to its input.
///
/// Shapes: input `[N, Cin, H, W]`, weight `[Cin, Cout/groups, kh, kw]`, bias `[Cout]`, output
/// `[N, Cout, OH, OW]` with `OH = sh (H - 1) + outputPadding + dh (kh - 1) + 1 - pt - pb`.
///
/// If `C` is the convolution from `[N, Cout, OH, OW]` to `[N, Cin, H, W]` with this weight,
/// stride, padding and dilation, then `y = Cᵀ x`: the forward pass is the convolution's input
/// gradient applied to `x`, and the backward pass is `dx = C dy` (a plain convolution of `dy`)
/// and `dW` = the convolution's weight gradient with `dy` as its input and `x` as its output gradient.
extension Tensor {
    public static func convTranspose2d(_ input: Tensor, weight: Tensor, bias: Tensor? = nil, stride: Size2D = 1,
                                       padding: (top: Int, left: Int, bottom: Int, right: Int) = (0, 0, 0, 0),
                                       outputPadding: Size2D = Size2D(0, 0), dilation: Size2D = 1, groups: Int = 1) throws -> Tensor {
        guard input.rank == 4, weight.rank == 4 else {
            throw TensorError.shapeMismatch(op: "convTranspose2d", "input \(describe(input.shape)) and weight \(describe(weight.shape)) must both be 4-D")
        }
        guard groups >= 1, weight.shape[0] == input.shape[1], input.shape[1] % groups == 0 else {
            throw TensorError.shapeMismatch(op: "convTranspose2d", "input \(describe(input.shape)) needs weight [\(input.shape[1]), Cout/groups, kH, kW] with groups \(groups) dividing \(input.shape[1]), got \(describe(weight.shape))")
        }
        guard stride.h >= 1, stride.w >= 1, dilation.h >= 1, dilation.w >= 1,
              outputPadding.h >= 0, outputPadding.w >= 0,
              outputPadding.h < Swift.max(stride.h, dilation.h), outputPadding.w < Swift.max(stride.w, dilation.w),
              min(padding.top, padding.left, padding.bottom, padding.right) >= 0 else {
            throw TensorError.invalidArgument(op: "convTranspose2d", "stride \(stride), dilation \(dilation), padding \(padding), output padding \(outputPadding): strides and dilations must be positive, paddings not negative, output padding below the stride or dilation")
        }
        let (n, h, w) = (input.shape[0], input.shape[2], input.shape[3])
        let outChannels = weight.shape[1] * groups
        let oh = stride.h * (h - 1) + outputPadding.h + dilation.h * (weight.shape[2] - 1) + 1 - padding.top - padding.bottom
        let ow = stride.w * (w - 1) + outputPadding.w + dilation.w * (weight.shape[3] - 1) + 1 - padding.left - padding.right
        guard oh >= 1, ow >= 1 else {
            throw TensorError.shapeMismatch(op: "convTranspose2d", "input \(h)x\(w) with padding \(padding) gives an empty \(oh)x\(ow) output")
        }
        if let bias, bias.shape != [outChannels] {
            throw TensorError.shapeMismatch(op: "convTranspose2d", "bias \(describe(bias.shape)) for \(outChannels) output channels")
        }
        // The convolution this op transposes: from the output's shape back to the input's.
        let g = try convolutionGeometry(input: [n, outChannels, oh, ow], weight: weight.shape, stride: stride,
                                        padding: .explicit(top: padding.top, bottom: padding.bottom, left: padding.left, right: padding.right),
                                        dilation: dilation, groups: groups)
        guard g.outHeight == h, g.outWidth == w else {
            throw TensorError.shapeMismatch(op: "convTranspose2d", "output \(oh)x\(ow) does not convolve back to the input \(h)x\(w)")
        }
        let out = Tensor(zeros: [n, outChannels, oh, ow])
        convolutionBackward(g, input: UnsafePointer(out.pointer), weight: weight.pointer, dOutput: input.pointer,
                            dInput: out.pointer, dWeight: nil)
        let plane = oh * ow
        if let bias {
            for b in 0..<n { for c in 0..<outChannels {
                let p = out.pointer + (b * outChannels + c) * plane, v = bias.pointer[c]
                for i in 0..<plane { p[i] += v }
            } }
        }
        let inputs = bias.map { [input, weight, $0] } ?? [input, weight]
        return record("convTranspose2d", out, inputs: inputs) { dOut in
            var dInput: Tensor?, dWeight: Tensor?, dBias: Tensor?
            if input.requiresGrad {
                let d = Tensor.uninitialized(input.shape)
                convolutionForward(g, input: dOut.pointer, weight: weight.pointer, bias: nil, output: d.pointer)
                dInput = d
            }
            if weight.requiresGrad {
                let d = Tensor(zeros: weight.shape)
                convolutionBackward(g, input: dOut.pointer, weight: weight.pointer, dOutput: input.pointer,
                                    dInput: nil, dWeight: d.pointer)
                dWeight = d
            }
            if let bias, bias.requiresGrad {
                let d = Tensor(zeros: [outChannels])
                for b in 0..<n { for c in 0..<outChannels {
                    let p = dOut.pointer + (b * outChannels + c) * plane
                    var acc: Float = 0
                    for i in 0..<plane { acc += p[i] }
                    d.pointer[c] += acc
                } }
                dBias = d
            }
            return bias == nil ? [dInput, dWeight] : [dInput, dWeight, dBias]
        }
    }
}
