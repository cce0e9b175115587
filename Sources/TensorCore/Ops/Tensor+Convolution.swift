import CFoveaKernels
/// 2-D convolution (deep learning's cross-correlation), forward and backward side by side.
///
/// Shapes: input `[N, C, H, W]`, weight `[Cout, C/groups, kh, kw]`, bias `[Cout]`,
/// output `[N, Cout, OH, OW]` with `OH = floor((H + pt + pb - (dh*(kh-1)+1)) / sh) + 1`.
///
/// Method: each geometry's `ConvolutionPlan` (`ConvolutionPlan.swift`) picks, once, the
/// kernels for the forward and for each gradient: the lowered path, im2col (or columns
/// packed straight from the images) + GEMM (`Tensor+LoweredConvolution.swift`); the direct
/// kernels for stride-1 layers with few channels (`Tensor+DirectConvolution.swift`); or
/// Winograd F(2x2, 3x3) for 3x3 layers with many (`Tensor+WinogradConvolution.swift`). The
/// backward runs on the forward's plan. Weight gradients are formed per thread and the
/// partial sums added in thread order, so results do not depend on timing.

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
    /// Output planes at least this large are multiplied image by image, reading and
    /// writing NCHW in place; smaller ones are multiplied for several images at once (so
    /// the GEMM has enough columns) through a gather / scatter copy.
    static let perImagePlane = 256

    /// 2-D convolution (cross-correlation, as in every deep-learning library).
    ///
    /// - Parameters:
    ///   - input: `[N, C, H, W]`.
    ///   - weight: `[Cout, C/groups, kh, kw]`.
    ///   - bias: `[Cout]` or nil.
    ///   - stride, padding, dilation, groups: as in PyTorch's `F.conv2d`; see `Padding`.
    ///   - plan: how to compute it (`convolutionPlan(input:weight:...)`), made for these
    ///     operands; nil makes one from the task's options and thread count.
    /// - Returns: `[N, Cout, OH, OW]`, `OH = floor((H + pt + pb - (dh*(kh-1)+1)) / sh) + 1`.
    /// - Throws: for operands that do not fit together, or a plan made for other operands.
    public static func conv2d(_ input: Tensor, weight: Tensor, bias: Tensor? = nil, stride: Size2D = 1,
                              padding: Padding = .valid, dilation: Size2D = 1, groups: Int = 1,
                              plan: ConvolutionPlan? = nil) throws -> Tensor {
        try convolution(input, weight: weight, bias: bias, stride: stride, padding: padding, dilation: dilation,
                        groups: groups, relu: false, plan: plan)
    }

    /// `conv2d(...).relu()` as one op, for training as well as inference: the bias and the
    /// ReLU are applied as the convolution places its output, and the backward masks the
    /// incoming gradient by `output > 0` once before the convolution's own backward, instead
    /// of a separate ReLU pass each way. Arguments and shapes as `conv2d`.
    public static func conv2dReLU(_ input: Tensor, weight: Tensor, bias: Tensor? = nil, stride: Size2D = 1,
                                  padding: Padding = .valid, dilation: Size2D = 1, groups: Int = 1,
                                  plan: ConvolutionPlan? = nil) throws -> Tensor {
        try convolution(input, weight: weight, bias: bias, stride: stride, padding: padding, dilation: dilation,
                        groups: groups, relu: true, plan: plan)
    }

    /// `conv2d`, followed by a ReLU when `relu`; the backward runs on the forward's plan.
    static func convolution(_ input: Tensor, weight: Tensor, bias: Tensor?, stride: Size2D, padding: Padding,
                            dilation: Size2D, groups: Int, relu: Bool, plan: ConvolutionPlan?) throws -> Tensor {
        let op = relu ? "conv2dReLU" : "conv2d"
        let g = try convolutionGeometry(input: input.shape, weight: weight.shape, stride: stride,
                                        padding: padding, dilation: dilation, groups: groups)
        let plan = try resolvedPlan(plan, for: g, op: op)
        if let bias, bias.shape != [g.outChannels] {
            throw TensorError.shapeMismatch(op: op, "bias \(describe(bias.shape)) for \(g.outChannels) output channels")
        }
        let out = Tensor.uninitialized([g.batch, g.outChannels, g.outHeight, g.outWidth])
        // The forward's column matrices, kept for the weight gradient when they are small.
        let kept = GradMode.isEnabled && weight.requiresGrad && plan.keepsColumns
            ? TensorStorage(count: g.groups * g.batch * g.patchSize * g.outPlane, zeroed: false) : nil
        // The ReLU rides on the epilogue, which then carries the bias too.
        let epilogue = relu ? ConvEpilogue(scale: [Float](repeating: 1, count: g.outChannels),
                                           shift: bias?.values ?? [Float](repeating: 0, count: g.outChannels), relu: true) : nil
        convolutionForward(g, input: input.pointer, weight: weight.pointer, bias: relu ? nil : bias?.pointer,
                           output: out.pointer, epilogue: epilogue, columns: kept?.pointer, plan: plan)
        let inputs = bias.map { [input, weight, $0] } ?? [input, weight]
        let y = relu ? UncheckedSendable(UnsafePointer(out.pointer)) : nil
        // The backward reads the operands, and the output when it masks by the fused ReLU.
        return record(op, out, inputs: inputs, saving: relu ? inputs + [out.storage] : inputs,
                      graph: relu ? nil : .conv2d(stride: stride, padding: padding, dilation: dilation, groups: groups,
                                                  bias: bias != nil)) { dOut in
            convolutionGradients(plan, input: input, weight: weight, bias: bias, dOutput: dOut, reluOutput: y?.value,
                                 keptColumns: kept)
        }
    }

    /// `[dInput, dWeight, dBias?]` of `convolution`, on the forward's `plan`, for the
    /// arguments that require gradients. `reluOutput`: the output of a fused ReLU, whose
    /// mask the incoming gradient goes through first.
    static func convolutionGradients(_ plan: ConvolutionPlan, input: Tensor, weight: Tensor, bias: Tensor?, dOutput dOut: Tensor,
                                     reluOutput: UnsafePointer<Float>?, keptColumns: TensorStorage?) -> [Tensor?] {
        let g = plan.geometry
        // On the direct path the ReLU's mask and the bias sums ride on the spread of
        // the gradient into wide rows; that needs the direct kernels to do the whole
        // backward (not a lowered input gradient) and something for them to do.
        if let reluOutput, plan.weightGradient == .direct, !input.requiresGrad || plan.inputGradient == .direct,
           input.requiresGrad || weight.requiresGrad {
            return directGradients(plan, input: input, weight: weight, bias: bias,
                                   dOutput: .plain(dOut.pointer, reluOutput: reluOutput))
        }
        let dInput = input.requiresGrad ? Tensor(zeros: input.shape) : nil
        let dWeight = weight.requiresGrad ? Tensor(zeros: weight.shape) : nil
        // Through the ReLU first: the gradient where the output is positive.
        let dConv = reluOutput.map { reluGradient(dOut, output: $0) } ?? dOut
        convolutionBackward(g, input: input.pointer, weight: weight.pointer, dOutput: dConv.pointer,
                            dInput: dInput?.pointer, dWeight: dWeight?.pointer,
                            columns: keptColumns.map { UnsafePointer($0.pointer) }, plan: plan)
        var grads: [Tensor?] = [dInput, dWeight]
        if let bias {
            grads.append(bias.requiresGrad ? biasGradient(dConv, channels: g.outChannels) : nil)
        }
        return grads
    }

    /// Forward kernel on raw NCHW buffers: `output = conv(input, weight) + bias`, computed as
    /// `plan` (made for `g`; nil makes one) says.
    /// With `epilogue`, each output channel c becomes `epilogue.apply(acc, c)` (and `bias`
    /// must be nil: fold it into the epilogue's shift), in the same pass that places it.
    /// With `residual` (the output's shape), it is added before the epilogue's ReLU: a
    /// residual block's `relu(bn(conv(x)) + shortcut)`, in that same pass where the product
    /// is multiplied image by image (`fovea_sgemm_epilogue`), else in one pass after it.
    /// With `columns` (the lowered path's whole-batch column matrices), they are written
    /// for the backward.
    public static func convolutionForward(_ g: ConvGeometry, input: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                                          bias: UnsafePointer<Float>?, output: UnsafeMutablePointer<Float>,
                                          epilogue: ConvEpilogue? = nil, residual: UnsafePointer<Float>? = nil,
                                          columns: UnsafeMutablePointer<Float>? = nil, plan: ConvolutionPlan? = nil) {
        let plan = plan ?? ConvolutionPlan(geometry: g)
        precondition(plan.geometry == g, "a plan for \(plan.geometry.operandDescription) used for \(g.operandDescription)")
        if let residual, columns != nil || plan.forward != .lowered || !plan.multipliesImageByImage {
            var plain = epilogue
            plain?.relu = false
            convolutionForward(g, input: input, weight: weight, bias: bias, output: output, epilogue: plain, columns: columns,
                               plan: plan)
            addResidual(residual, to: output, count: g.batch * g.outChannels * g.outPlane, relu: epilogue?.relu ?? false)
            return
        }
        if columns == nil, plan.forward == .winograd {
            winogradForward(g, input: input, weight: weight, bias: bias, output: output, epilogue: epilogue, threads: plan.threads)
            return
        }
        if plan.directKernels {
            directConvolutionForward(g, input: input, weight: weight, bias: bias, output: output, epilogue: epilogue,
                                     threads: plan.threads)
            return
        }
        loweredForward(plan, input: input, weight: weight, bias: bias, output: output, epilogue: epilogue,
                       residual: residual, columns: columns)
    }

    /// Backward kernel on raw NCHW buffers, as `plan` (made for `g`; nil makes one) says:
    /// adds `dL/dinput` into `dInput` and writes `dL/dweight` into `dWeight` (either may be
    /// nil when not needed). `columns`: the column matrices the forward kept, if it did.
    public static func convolutionBackward(_ g: ConvGeometry, input: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                                           dOutput: UnsafePointer<Float>, dInput: UnsafeMutablePointer<Float>?,
                                           dWeight: UnsafeMutablePointer<Float>?, columns: UnsafePointer<Float>? = nil,
                                           plan: ConvolutionPlan? = nil) {
        let plan = plan ?? ConvolutionPlan(geometry: g)
        precondition(plan.geometry == g, "a plan for \(plan.geometry.operandDescription) used for \(g.operandDescription)")
        if let dx = dInput, plan.inputGradient == .winograd {
            winogradInputGradient(g, weight: weight, dOutput: dOutput, dInput: dx, threads: plan.threads)
        }
        if let dw = dWeight, plan.weightGradient == .winograd {
            winogradWeightGradient(g, input: input, dOutput: dOutput, dWeight: dw, threads: plan.threads)
        }
        // The weight gradient goes direct wherever the forward does; the input gradient only
        // where the direct kernel's 6-row tiles are well filled by the input channels.
        let directInput = plan.inputGradient == .direct ? dInput : nil
        let directWeight = plan.weightGradient == .direct ? dWeight : nil
        if directInput != nil || directWeight != nil {
            directConvolutionBackward(g, input: input, weight: weight, dOutput: .plain(dOutput, reluOutput: nil),
                                      dInput: directInput, dWeight: directWeight, threads: plan.threads)
        }
        let loweredInput = plan.inputGradient == .lowered ? dInput : nil
        let loweredWeight = plan.weightGradient == .lowered ? dWeight : nil
        if loweredInput != nil || loweredWeight != nil {
            loweredBackward(plan, input: input, weight: weight, dOutput: dOutput, dInput: loweredInput, dWeight: loweredWeight,
                            columns: columns)
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
