import CFoveaKernels

/// The settings a convolution's plan is made under: which method to force (tests and
/// benchmarks) and how many floats of column matrices a training convolution may keep
/// from its forward for its backward.
///
/// They are task-local (`current`, set with `Tensor.withConvolutionOptions`), read once on
/// the calling thread when a plan is made, and never from the kernels' worker threads.
public struct ConvolutionOptions: Sendable, Equatable {
    /// The method to force where it applies (`Tensor.ConvolutionMethod`; `.automatic` picks
    /// per geometry).
    public var method: Tensor.ConvolutionMethod
    /// Most floats of column matrices a training convolution keeps from its forward for its
    /// backward (default 4M floats, 16 MiB), instead of lowering the images a second time;
    /// 0 always lowers again (tests use it to check both ways).
    public var keptColumnLimit: Int

    public init(method: Tensor.ConvolutionMethod = .automatic, keptColumnLimit: Int = 1 << 22) {
        self.method = method
        self.keptColumnLimit = keptColumnLimit
    }

    /// The options in force for plans made in this task (or on this thread outside tasks).
    @TaskLocal public static var current = ConvolutionOptions()
}

/// Every decision of how one convolution geometry is computed, made once from the geometry,
/// the options and the thread count: the forward, both gradients and the batch split.
///
/// The tensor ops (`conv2d`, `conv2dReLU`, `conv2dReLUMaxPool2x2`, `conv2dInference`) make
/// one when none is given, and the backward closure captures the forward's plan, so the
/// backward computes exactly what the forward planned, whatever options or thread count are
/// in force when it runs. A compiled graph can make one per geometry
/// (`Tensor.convolutionPlan(input:weight:...)`) and pass it on every call.
public struct ConvolutionPlan: Sendable, Equatable {
    /// A kernel family: `lowered` im2col (or implicit columns) + GEMM, `direct` the wide
    /// stride-1 kernels (`Tensor+DirectConvolution.swift`), `winograd` F(2x2, 3x3)
    /// (`Tensor+WinogradConvolution.swift`).
    public enum Method: Sendable, Equatable { case lowered, direct, winograd }

    /// The geometry this plan is for; the ops refuse it for any other.
    public let geometry: ConvGeometry
    /// The options it was made under.
    public let options: ConvolutionOptions
    /// Threads the kernels split this convolution over (forward and backward alike).
    public let threads: Int

    /// How the forward runs.
    public let forward: Method
    /// How the input gradient runs.
    public let inputGradient: Method
    /// How the weight gradient runs.
    public let weightGradient: Method

    /// The direct kernels suit this geometry (`forward` is `.direct` unless Winograd takes
    /// it): stride 1 and not pointwise, and by default at least 4 output channels (rows of
    /// the 6-row tiles), a patch of at most 576 (64 channels of 3x3), and either few output
    /// channels (im2col's cost is shared by fewer products) or wide rows that are mostly kept
    /// (`OW >= 3/4 Wp`). Measured with `fovea bench --convolutions` on LeNet, LeNet_modify
    /// and ResNet shapes: direct won where this holds, and lost on LeNet_modify's conv2 (8 of
    /// 12 columns kept, 50 channels) and on 3x3 convolutions of 256 and 512 channels.
    /// `conv2dReLUMaxPool2x2` pools straight from the direct kernels where this holds.
    public let directKernels: Bool
    /// With `directKernels`, the input gradient goes direct too. Its rows are the input
    /// channels and its taps run over every output channel, so by default it needs at least
    /// 4 input channels and at most 16 output channels (LeNet-5's conv2; with 50 or 64
    /// output channels the GEMM and col2im measured faster).
    public let directInputGradient: Bool

    /// The lowered path's two products that read the columns (the forward and the weight
    /// gradient) pack them straight from the images (`fovea_implicit_forward`,
    /// `fovea_implicit_weight_grad`) instead of through im2col, and the input gradient adds
    /// each tile of the column gradient onto its pixels (`fovea_implicit_input_grad`) instead
    /// of writing the columns for col2im: for unpadded, stride-1, undilated, non-pointwise
    /// geometries with small planes (the batched rounds), one thread per GEMM. LeNet_modify's
    /// conv2 (20 -> 50 channels, 12x12 -> 8x8) is the case it was measured on: its 2M-float
    /// column matrix is neither written nor kept.
    public let implicitColumns: Bool
    /// A convolution multiplied image by image packs its columns straight from the image
    /// (`fovea_implicit_forward_block`; padded first into the scratch by `fovea_pad_planes`
    /// when it has padding) instead of writing them out with im2col: stride 1, undilated, not
    /// pointwise, rows of at least 8 outputs (each 8 columns of a packed sliver are then at
    /// most two runs of one image row each) and more than 64 columns (fewer go to the GEMM's
    /// path that reads the weights in place). ResNet-50's 3x3 convolutions on 14x14 planes
    /// at batch 1 are the case it was built for.
    public let packsColumnsPerImage: Bool
    /// The lowered path multiplies image by image straight into NCHW: large planes (at
    /// least `Tensor.perImagePlane` outputs), and rounds of a single image (single-image
    /// inference), where a batched round would only add the gather and scatter copies, and a
    /// pointwise convolution would copy the image into a column matrix it already is. Not
    /// where the implicit columns apply.
    public let multipliesImageByImage: Bool
    /// A training forward keeps its column matrices for the weight gradient: the lowered
    /// path lowers at all (not direct, not Winograd, not pointwise on large planes, not
    /// implicit) and the whole batch's columns fit `options.keptColumnLimit`
    /// (LeNet_modify's conv2 at batch 64 without implicit columns: 2M floats; CIFAR ResNet
    /// layers are far larger).
    public let keepsColumns: Bool
    /// `conv2dReLUMaxPool2x2` at inference takes the lanes kernel
    /// (`Tensor+LanesConvolution.swift`): it computes fewer 8-float FMAs per tap than the
    /// wide kernels (one group, no method forced but Winograd). LeNet-5's second layer: 200
    /// against 288.
    public let lanesPooling: Bool

    /// The lowered path's batch split: `chunks` contiguous runs of images, one per thread.
    public let chunks: Int
    /// Images lowered per round inside a run: one when planes are large (image by image),
    /// else enough for 256 columns and at most about `Tensor.columnBudget` floats of
    /// columns (a thread's L2).
    public let perRound: Int
    /// Threads each GEMM of the lowered path may use (when images are fewer than threads).
    public let gemmThreads: Int

    /// Plans `geometry` under `options` for `threads` threads (by default the task's).
    public init(geometry g: ConvGeometry, options: ConvolutionOptions = .current, threads: Int = Parallel.threadCount) {
        let method = options.method, threads = Swift.max(1, threads)
        geometry = g
        self.options = options
        self.threads = threads
        (chunks, perRound, gemmThreads) = Self.batchSplit(g, threads: threads)
        let direct = Self.suitsDirect(g, method)
        let winograd = Self.suitsWinograd(g, method)
        directKernels = direct
        directInputGradient = direct && (method == .direct || (g.groupChannels >= 4 && g.groupOutChannels <= 16))
        forward = winograd ? .winograd : direct ? .direct : .lowered
        inputGradient = Self.suitsWinogradInputGradient(g, method, winograd: winograd) ? .winograd
            : directInputGradient ? .direct : .lowered
        weightGradient = winograd ? .winograd : direct ? .direct : .lowered
        implicitColumns = method != .lowered && !direct && !g.isPointwise && g.stride == 1 && g.dilation == 1
            && g.padTop == 0 && g.padBottom == 0 && g.padLeft == 0 && g.padRight == 0
            && g.outPlane < Tensor.perImagePlane && gemmThreads == 1
        packsColumnsPerImage = (method == .automatic || method == .implicit) && !g.isPointwise && g.stride == 1
            && g.dilation == 1 && g.outWidth >= 8 && g.outPlane > 64 && !direct && !winograd
        let largestRound = Swift.min(perRound, Swift.max(1, (g.batch + chunks - 1) / chunks))
        multipliesImageByImage = g.outPlane >= Tensor.perImagePlane || (largestRound == 1 && !implicitColumns)
        keepsColumns = !direct && !winograd && !(multipliesImageByImage && g.isPointwise) && !implicitColumns
            && g.groups * g.batch * g.patchSize * g.outPlane <= options.keptColumnLimit
        lanesPooling = Self.suitsLanes(g, method)
    }

    /// Images in the largest round of any chunk: what each chunk's scratch must hold.
    var largestRound: Int { Swift.min(perRound, Swift.max(1, (geometry.batch + chunks - 1) / chunks)) }

    /// The batch split: one run of images per thread when the product is worth splitting,
    /// rounds of one image for large planes, else enough images for `Tensor.minimumColumns`
    /// columns and as many as fit `Tensor.columnBudget`.
    static func batchSplit(_ g: ConvGeometry, threads: Int) -> (chunks: Int, perRound: Int, gemmThreads: Int) {
        let work = g.batch * g.outPlane * g.patchSize * g.outChannels
        let chunks = work < GEMM.parallelThreshold ? 1 : Swift.max(1, Swift.min(threads, g.batch))
        let P = Swift.max(1, g.outPlane)
        let perRound = P >= Tensor.perImagePlane ? 1
            : Swift.max((Tensor.minimumColumns + P - 1) / P, Tensor.columnBudget / Swift.max(1, g.patchSize * P))
        return (chunks, perRound, Swift.max(1, threads / chunks))
    }

    /// See `directKernels`.
    static func suitsDirect(_ g: ConvGeometry, _ method: Tensor.ConvolutionMethod) -> Bool {
        guard g.stride.h == 1, g.stride.w == 1, !g.isPointwise else { return false }
        switch method {
        case .direct: return true
        case .lowered, .implicit: return false
        case .automatic, .winograd:
            let Wp = g.width + g.padLeft + g.padRight
            return g.groupOutChannels >= 4 && g.patchSize <= 576 && (g.groupOutChannels <= 16 || 4 * g.outWidth >= 3 * Wp)
        }
    }

    /// Whether the forward (and the weight gradient) runs on Winograd F(2x2, 3x3): 3x3,
    /// stride 1, undilated, ungrouped, and by default at least 16 input and 16 output
    /// channels and `Tensor.winogradMinimumOutputs` output positions (see
    /// `Tensor+WinogradConvolution.swift` for the measurements).
    static func suitsWinograd(_ g: ConvGeometry, _ method: Tensor.ConvolutionMethod) -> Bool {
        guard g.kernel == Size2D(3, 3), g.stride == 1, g.dilation == 1, g.groups == 1 else { return false }
        switch method {
        case .winograd: return true
        case .lowered, .direct, .implicit: return false
        case .automatic:
            return g.channels >= 16 && g.outChannels >= 16 && g.batch * g.outPlane >= Tensor.winogradMinimumOutputs
        }
    }

    /// Whether the input gradient runs on Winograd: as the forward, for paddings of at most
    /// 2 (the gradient's own padding is `2 - p`), and enough input positions.
    static func suitsWinogradInputGradient(_ g: ConvGeometry, _ method: Tensor.ConvolutionMethod, winograd: Bool) -> Bool {
        guard winograd, Swift.max(g.padTop, g.padBottom, g.padLeft, g.padRight) <= 2 else { return false }
        return method == .winograd || g.batch * g.height * g.width >= Tensor.winogradMinimumOutputs
    }

    /// See `lanesPooling`. Per tap, the wide kernels issue 2 FMAs per channel row per 16
    /// wide positions (rows in blocks of 6, a last block of at most 4 costing 4); the lanes
    /// kernel issues one per 8 channels (rounded up to 16) per kept position. LeNet-5's
    /// second layer: 288 against 200; its first (6 channels, 28x28 in 32-wide rows): 672
    /// against 1568.
    static func suitsLanes(_ g: ConvGeometry, _ method: Tensor.ConvolutionMethod) -> Bool {
        guard g.groups == 1, method == .automatic || method == .winograd else { return false }
        let d = DirectConvolution(g), M = g.outChannels, rest = M % 6
        let wideRows = M / 6 * 6 + (rest == 0 ? 0 : rest <= 4 ? 4 : 6)
        let wide = (d.L + 15) / 16 * 2 * wideRows
        let lanes = g.outPlane * fovea_lanes_width(M) / 8
        return lanes < wide
    }
}

extension ConvGeometry {
    /// The operands' shapes and settings, for messages: `input [N, C, H, W], weight [...],
    /// stride s, padding (t, b, l, r), dilation d, groups g`.
    public var operandDescription: String {
        "input \(describe([batch, channels, height, width])), weight \(describe([outChannels, groupChannels, kernel.h, kernel.w])), "
            + "stride \(stride), padding (\(padTop), \(padBottom), \(padLeft), \(padRight)), dilation \(dilation), groups \(groups)"
    }
}

extension Tensor {
    /// The plan `conv2d` and the fused convolutions would make for these operands under
    /// `options` and the task's thread count: make it once per geometry and pass it to every
    /// call. Throws as `conv2d` does for operands that do not fit together.
    public static func convolutionPlan(input: [Int], weight: [Int], stride: Size2D = 1, padding: Padding = .valid,
                                       dilation: Size2D = 1, groups: Int = 1,
                                       options: ConvolutionOptions = .current) throws -> ConvolutionPlan {
        let g = try convolutionGeometry(input: input, weight: weight, stride: stride, padding: padding,
                                        dilation: dilation, groups: groups)
        return ConvolutionPlan(geometry: g, options: options)
    }

    /// `plan` if it was made for `g`, a new plan for `g` if none was given; throws with both
    /// geometries when the plan is for another.
    static func resolvedPlan(_ plan: ConvolutionPlan?, for g: ConvGeometry, op: String) throws -> ConvolutionPlan {
        guard let plan else { return ConvolutionPlan(geometry: g) }
        guard plan.geometry == g else {
            throw TensorError.shapeMismatch(op: op, "the plan was made for \(plan.geometry.operandDescription), but the call has \(g.operandDescription)")
        }
        return plan
    }

    /// How `conv2d` computes: `.automatic` picks per geometry; the others force a method
    /// where it applies, for tests and benchmarks: `.lowered` im2col + GEMM, `.implicit`
    /// the lowered products with the columns packed straight from the images (unpadded,
    /// stride 1, undilated, small planes; elsewhere lowered), `.direct` the direct kernels
    /// (stride 1), `.winograd` Winograd F(2x2, 3x3) for the forward and input gradient (3x3,
    /// stride 1, undilated, ungrouped; elsewhere automatic).
    public enum ConvolutionMethod: Sendable { case automatic, lowered, direct, implicit, winograd }

    /// Runs `body` with `options` in force for every convolution plan made inside it (in
    /// this task and the child tasks it starts).
    public static func withConvolutionOptions<T>(_ options: ConvolutionOptions, _ body: () throws -> T) rethrows -> T {
        try ConvolutionOptions.$current.withValue(options, operation: body)
    }

    /// Runs `body` with every convolution forced onto `method` where it applies, the other
    /// options as they are.
    public static func withConvolutionMethod<T>(_ method: ConvolutionMethod, _ body: () throws -> T) rethrows -> T {
        var options = ConvolutionOptions.current
        options.method = method
        return try withConvolutionOptions(options, body)
    }
}
