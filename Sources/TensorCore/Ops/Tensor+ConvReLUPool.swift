import CFoveaKernels

/// Convolution + bias + ReLU + 2x2 max pooling as one op (LeNet-5's two stages), forward
/// and backward side by side.
///
/// Forward: `y = maxpool2x2(max(0, conv(x) + b))`, `[N, Cout, OH / 2, OW / 2]`, with the
/// argmax of each window kept. Backward: the gradient that reaches the convolution is
/// `dy` at each window's argmax where the pooled value is positive (the ReLU's mask at that
/// cell) and 0 elsewhere. The forward pools straight from the direct kernels' wide rows
/// (`fovea_maxpool2x2_relu_rows`), and the backward writes its gradient straight into the
/// wide rows it reads (`fovea_spread_pooled`), so neither the convolution's output nor the
/// full-size gradient is ever written.
extension Tensor {
    /// `maxPool2d(conv2dReLU(...), kernel: 2)` as one op where the plan takes the direct
    /// kernels for the convolution's whole backward (`directKernels`, and
    /// `directInputGradient` when the input wants a gradient) and its output tiles into 2x2
    /// windows (even `OH`, `OW`); elsewhere exactly the two ops. Arguments as `conv2d`.
    public static func conv2dReLUMaxPool2x2(_ input: Tensor, weight: Tensor, bias: Tensor? = nil, stride: Size2D = 1,
                                            padding: Padding = .valid, dilation: Size2D = 1, groups: Int = 1,
                                            plan: ConvolutionPlan? = nil) throws -> Tensor {
        let g = try convolutionGeometry(input: input.shape, weight: weight.shape, stride: stride,
                                        padding: padding, dilation: dilation, groups: groups)
        let plan = try resolvedPlan(plan, for: g, op: "conv2dReLUMaxPool2x2")
        let wantsInputGradient = GradMode.isEnabled && input.requiresGrad
        guard plan.directKernels, g.outHeight % 2 == 0, g.outWidth % 2 == 0,
              !wantsInputGradient || plan.directInputGradient, bias == nil || bias!.shape == [g.outChannels] else {
            let y = try conv2dReLU(input, weight: weight, bias: bias, stride: stride, padding: padding,
                                   dilation: dilation, groups: groups, plan: plan)
            return try maxPool2d(y, kernel: 2)
        }
        let OH = g.outHeight / 2, OW = g.outWidth / 2
        let out = Tensor.uninitialized([g.batch, g.outChannels, OH, OW])
        let inputs = bias.map { [input, weight, $0] } ?? [input, weight]
        guard GradMode.isEnabled, inputs.contains(where: \.requiresGrad) else {
            // Nothing will take a gradient (inference): the pooling keeps no argmax, and where
            // it computes less the output channels go across the lanes.
            let b = bias.map { UnsafePointer($0.pointer) }
            if plan.lanesPooling {
                lanesPooledForward(g, input: input.pointer, weight: weight.pointer, bias: b, output: out.pointer,
                                   threads: plan.threads)
            } else {
                directConvolutionForward(g, input: input.pointer, weight: weight.pointer, bias: b, output: out.pointer,
                                         epilogue: nil, pooled: true, threads: plan.threads)
            }
            return out
        }
        // Every window's argmax is written by the pooling, so the array needs no zeroing first.
        let argmax = [Int32](unsafeUninitializedCapacity: out.count) { a, initialized in
            if let first = a.baseAddress {
                directConvolutionForward(g, input: input.pointer, weight: weight.pointer, bias: bias.map { UnsafePointer($0.pointer) },
                                         output: out.pointer, epilogue: nil, pooled: true, pooledArgmax: first,
                                         threads: plan.threads)
            }
            initialized = out.count
        }
        // The output's address, not the tensor: the tape keeps the tensor while its backward runs.
        let pooled = UncheckedSendable(UnsafePointer(out.pointer))
        return record("conv2dReLUMaxPool2x2", out, inputs: inputs) { dOut in
            argmax.withUnsafeBufferPointer { a in
                directGradients(plan, input: input, weight: weight, bias: bias,
                                dOutput: .pooled(dOut.pointer, argmax: a.baseAddress!, pooled: pooled.value))
            }
        }
    }
}
