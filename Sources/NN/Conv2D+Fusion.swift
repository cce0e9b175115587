import TensorCore

/// Convolution fused with what follows it at inference: batch norm and optionally ReLU
/// (the unit ResNet, GoogLeNet and Inception are built of), or ReLU alone (LeNet, AlexNet,
/// VGG). In training, or whenever a gradient could be wanted, or while a
/// `LayerTrace` records each layer, it is exactly `activation(bn(conv(x)))`. In evaluation
/// without a tape, batch norm's running statistics and the convolution's bias are folded
/// into a per-channel scale and shift that the convolution applies, with the ReLU, as it
/// writes each image's output (`Tensor.conv2dInference`): one pass instead of three.
extension Conv2D {
    /// `activation(bn(self(input)))`, fused at inference; `activation` is nil, a `ReLU`
    /// (fused), or any other layer (then nothing is fused).
    public func callAsFunction(_ input: Tensor, normalizedBy bn: BatchNorm, then activation: Layer? = nil) throws -> Tensor {
        guard fuses(input, normalizedBy: bn, then: activation) else {
            let y = try bn(self(input))
            return try activation.map { try $0(y) } ?? y
        }
        return try Tensor.conv2dInference(input, weight: weight, epilogue: epilogue(bn, relu: activation != nil), stride: stride,
                                          padding: padding, dilation: dilation, groups: groups)
    }

    /// `activation(bn(self(input)) + residual)`, a residual block's last convolution and
    /// output: at inference, where `callAsFunction(_:normalizedBy:then:)` fuses and the
    /// residual has the output's shape, the product adds the residual as it writes each
    /// block (`Tensor.conv2dInference(_:weight:epilogue:residual:...)`); otherwise step by
    /// step, the sum and the ReLU in one pass (`Tensor.reluOfSum`) where the shapes match.
    public func callAsFunction(_ input: Tensor, normalizedBy bn: BatchNorm, adding residual: Tensor,
                               then activation: ReLU?) throws -> Tensor {
        if fuses(input, normalizedBy: bn, then: activation), !(GradMode.isEnabled && residual.requiresGrad),
           let g = try? Tensor.convolutionGeometry(input: input.shape, weight: weight.shape, stride: stride, padding: padding,
                                                   dilation: dilation, groups: groups),
           residual.shape == [g.batch, g.outChannels, g.outHeight, g.outWidth] {
            return try Tensor.conv2dInference(input, weight: weight, epilogue: epilogue(bn, relu: activation != nil),
                                              residual: residual, stride: stride, padding: padding, dilation: dilation,
                                              groups: groups)
        }
        let y = try bn(self(input))
        guard let activation else { return try y + residual }
        return y.shape == residual.shape ? try Tensor.reluOfSum(y, residual) : try activation(y + residual)
    }

    /// Whether `callAsFunction(_:normalizedBy:then:)` fuses for this input: batch norm in
    /// evaluation over this convolution's channels, a ReLU or no activation, no gradient
    /// wanted of any tensor involved, and no `LayerTrace` recording.
    public func fuses(_ input: Tensor, normalizedBy bn: BatchNorm, then activation: Layer?) -> Bool {
        let reluOrNothing = activation == nil || activation is ReLU
        let tensors = [input, weight] + [bias, bn.weight, bn.bias].compactMap { $0 }
        let wantsTape = GradMode.isEnabled && tensors.contains { $0.requiresGrad }
        return reluOrNothing && !bn.isTraining && !wantsTape && LayerTrace.current == nil
            && bn.inputRank == 4 && bn.features == outChannels
    }

    /// Batch norm's running statistics and this convolution's bias folded into a scale and
    /// shift per output channel.
    private func epilogue(_ bn: BatchNorm, relu: Bool) -> ConvEpilogue {
        ConvEpilogue(convolutionBias: bias, gamma: bn.weight, beta: bn.bias, runningMean: bn.runningMean,
                     runningVar: bn.runningVar, eps: bn.eps, relu: relu)
    }

    /// `activation(self(input))`, with the bias and the ReLU applied as the convolution
    /// writes its output (AlexNet and VGG): at inference with nothing on the tape, in
    /// training as one op whose backward masks the gradient once (`Tensor.conv2dReLU`).
    /// While a `LayerTrace` records it is exactly `activation(self(input))`, so the trace
    /// records the ReLU layer by its name.
    public func callAsFunction(_ input: Tensor, then activation: ReLU) throws -> Tensor {
        try fusedReLU(input) ?? activation(self(input))
    }

    /// `self(input).relu()` for models whose ReLU is the tensor function rather than a
    /// layer (LeNet-5), fused as `callAsFunction(_:then:)` is.
    public func reluOutput(_ input: Tensor) throws -> Tensor {
        try fusedReLU(input) ?? self(input).relu()
    }

    /// `pool(self(input).relu())` as one op (`Tensor.conv2dReLUMaxPool2x2`) when `pool` is a
    /// 2x2, stride-2, unpadded max pool (LeNet-5): the backward sends the pooled gradient
    /// straight into the convolution's. While a `LayerTrace` records, or for another pool,
    /// it is the convolution, the ReLU and the pool one after the other.
    public func reluMaxPoolOutput(_ input: Tensor, pool: Pool2D) throws -> Tensor {
        guard LayerTrace.current == nil, pool.kind == .max, pool.kernelSize == Size2D(2, 2), pool.stride == Size2D(2, 2),
              pool.padding == .valid, !pool.ceilMode else {
            return try pool(reluOutput(input))
        }
        return try Tensor.conv2dReLUMaxPool2x2(input, weight: weight, bias: bias, stride: stride, padding: padding,
                                               dilation: dilation, groups: groups)
    }

    /// The fused conv + bias + ReLU (`Tensor.conv2dReLU`, which records on the tape only
    /// when a gradient is wanted), or nil while a trace records.
    private func fusedReLU(_ input: Tensor) throws -> Tensor? {
        guard LayerTrace.current == nil else { return nil }
        return try Tensor.conv2dReLU(input, weight: weight, bias: bias, stride: stride, padding: padding,
                                     dilation: dilation, groups: groups)
    }
}
