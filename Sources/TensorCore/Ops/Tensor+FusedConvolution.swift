import CFoveaKernels
/// Convolution fused with what follows it at inference: a per-channel affine map (batch
/// norm with running statistics, folded with the convolution's bias) and an optional ReLU,
/// applied while each image's output is still in cache instead of in two more passes over
/// the activations (batch norm's, which also keeps its normalised copy for backward, and
/// the ReLU's).
///
/// Folding: with the convolution's bias b and batch norm's gamma, beta, running mean mu and
/// running variance v, `bn(conv(x) + b) = s * conv(x) + t` per output channel with
/// `s = gamma / sqrt(v + eps)`, `t = beta + s * (b - mu)`.

/// The per-channel map a fused convolution applies to its raw output: `y = s[c] * acc + t[c]`,
/// then `y > 0 ? y : 0` when `relu` (exactly `relu()`'s rule).
public struct ConvEpilogue: Sendable {
    public var scale: [Float]
    public var shift: [Float]
    public var relu: Bool

    public init(scale: [Float], shift: [Float], relu: Bool) {
        precondition(scale.count == shift.count, "scale \(scale.count) and shift \(shift.count) must match")
        self.scale = scale
        self.shift = shift
        self.relu = relu
    }

    /// Batch norm in evaluation (running statistics) after a convolution with `bias`:
    /// `s = gamma / sqrt(v + eps)`, `t = beta + s * (bias - mean)`.
    public init(convolutionBias bias: Tensor?, gamma: Tensor?, beta: Tensor?, runningMean: Tensor, runningVar: Tensor,
                eps: Float, relu: Bool) {
        let C = runningMean.count
        var s = [Float](repeating: 1, count: C), t = [Float](repeating: 0, count: C)
        for c in 0..<C {
            s[c] = (gamma?.pointer[c] ?? 1) / (runningVar.pointer[c] + eps).squareRoot()
            t[c] = (beta?.pointer[c] ?? 0) + s[c] * ((bias?.pointer[c] ?? 0) - runningMean.pointer[c])
        }
        self.init(scale: s, shift: t, relu: relu)
    }

    /// Maps channels `channels` (relative to `firstChannel`) of planes `plane` floats long,
    /// in place, on the calling thread (`Tensor.scaleShift`).
    func apply(to planes: UnsafeMutablePointer<Float>, firstChannel: Int, channels: Range<Int>, plane: Int) {
        scale.withUnsafeBufferPointer { s in
            shift.withUnsafeBufferPointer { t in
                Tensor.scaleShift(planes, scale: s.baseAddress! + firstChannel, shift: t.baseAddress! + firstChannel,
                                  relu: relu, channels: channels, plane: plane)
            }
        }
    }
}

extension Tensor {
    /// `epilogue(conv2d(input, weight))` in one pass, for inference: records nothing on the
    /// tape, so use it only where no gradient is wanted. Shapes and arguments as `conv2d`;
    /// the epilogue needs one scale and shift per output channel. With `residual` (the
    /// output's shape), the result is `relu?(scale * conv + shift + residual)`: a residual
    /// block's last convolution, its batch norm, the shortcut and the ReLU. `plan` as in
    /// `conv2d`.
    public static func conv2dInference(_ input: Tensor, weight: Tensor, epilogue: ConvEpilogue, residual: Tensor? = nil,
                                       stride: Size2D = 1, padding: Padding = .valid, dilation: Size2D = 1,
                                       groups: Int = 1, plan: ConvolutionPlan? = nil) throws -> Tensor {
        let g = try convolutionGeometry(input: input.shape, weight: weight.shape, stride: stride,
                                        padding: padding, dilation: dilation, groups: groups)
        let plan = try resolvedPlan(plan, for: g, op: "conv2dInference")
        guard epilogue.scale.count == g.outChannels else {
            throw TensorError.shapeMismatch(op: "conv2dInference", "epilogue has \(epilogue.scale.count) channels for \(g.outChannels) output channels")
        }
        let shape = [g.batch, g.outChannels, g.outHeight, g.outWidth]
        if let residual, residual.shape != shape {
            throw TensorError.shapeMismatch(op: "conv2dInference", "residual \(describe(residual.shape)) must match the output \(describe(shape))")
        }
        let out = Tensor.uninitialized(shape)
        convolutionForward(g, input: input.pointer, weight: weight.pointer, bias: nil, output: out.pointer, epilogue: epilogue,
                           residual: residual.map { UnsafePointer($0.pointer) }, plan: plan)
        return out
    }
}
