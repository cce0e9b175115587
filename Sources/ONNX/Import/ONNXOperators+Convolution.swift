import TensorCore

// Conv, ConvTranspose and the pooling operators, 2-D only.

extension ONNXOperatorFactory {
    typealias Body = ([Tensor?], ONNXRunContext) throws -> [Tensor]

    /// `Conv`: pads, strides, dilations, group, auto_pad (NOTSET, VALID, SAME_UPPER, SAME_LOWER).
    static func convolution(_ node: ONNXNode) throws -> Body {
        try node.expectInputs(2, 3)
        try node.allowAttributes(["kernel_shape", "strides", "pads", "dilations", "group", "auto_pad"])
        let kernel = try node.ints("kernel_shape", count: 2, range: 1...ONNXNode.maxWindow)
        let strides = try pair(node, "strides"), dilations = try pair(node, "dilations")
        let explicitPads = try pads(node), autoPad = try autoPad(node)
        let group = try node.int("group", 1, range: 1...(1 << 20))
        return { inputs, context in
            let x = inputs[0]!, w = inputs[1]!
            try require4D(x, node)
            guard w.rank == 4 else { throw node.fail("weight '\(node.inputs[1])' must be [Cout, Cin/group, kH, kW], got \(describe(w.shape))") }
            if let kernel, kernel != [w.shape[2], w.shape[3]] {
                throw node.fail("kernel_shape \(kernel) does not match weight \(describe(w.shape))")
            }
            let effective = Size2D(dilations.h * (w.shape[2] - 1) + 1, dilations.w * (w.shape[3] - 1) + 1)
            let padding = ONNXOperatorFactory.padding(autoPad, pads: explicitPads, input: x.shape, kernel: effective, stride: strides)
            let g = try Tensor.convolutionGeometry(input: x.shape, weight: w.shape, stride: strides, padding: padding,
                                                   dilation: dilations, groups: group)
            try context.check([g.batch, g.outChannels, g.outHeight, g.outWidth], node)
            return [try Tensor.conv2d(x, weight: w, bias: inputs.count > 2 ? inputs[2] : nil, stride: strides,
                                      padding: padding, dilation: dilations, groups: group)]
        }
    }

    /// `ConvTranspose`: pads, strides, dilations, group, output_padding, output_shape, auto_pad.
    static func transposedConvolution(_ node: ONNXNode) throws -> Body {
        try node.expectInputs(2, 3)
        try node.allowAttributes(["kernel_shape", "strides", "pads", "dilations", "group", "auto_pad", "output_padding", "output_shape"])
        let kernel = try node.ints("kernel_shape", count: 2, range: 1...ONNXNode.maxWindow)
        let strides = try pair(node, "strides"), dilations = try pair(node, "dilations")
        let explicitPads = try pads(node), autoPad = try autoPad(node)
        let group = try node.int("group", 1, range: 1...(1 << 20))
        let extra = try node.ints("output_padding", count: 2, range: 0...ONNXNode.maxWindow) ?? [0, 0]
        let outputShape = try node.ints("output_shape", range: 1...(1 << 20))
        if let outputShape, outputShape.count != 2 && outputShape.count != 4 {
            throw node.fail("output_shape \(outputShape) must give the 2 spatial sizes")
        }
        return { inputs, context in
            let x = inputs[0]!, w = inputs[1]!
            try require4D(x, node)
            guard w.rank == 4 else { throw node.fail("weight '\(node.inputs[1])' must be [Cin, Cout/group, kH, kW], got \(describe(w.shape))") }
            if let kernel, kernel != [w.shape[2], w.shape[3]] {
                throw node.fail("kernel_shape \(kernel) does not match weight \(describe(w.shape))")
            }
            var pads = explicitPads
            let effective = [dilations.h * (w.shape[2] - 1) + 1, dilations.w * (w.shape[3] - 1) + 1]
            let stride = [strides.h, strides.w]
            if outputShape != nil || autoPad == "SAME_UPPER" || autoPad == "SAME_LOWER" {
                for axis in 0..<2 {
                    let inSize = x.shape[2 + axis]
                    let target = outputShape.map { $0[$0.count - 2 + axis] } ?? inSize * stride[axis]
                    let total = stride[axis] * (inSize - 1) + extra[axis] + effective[axis] - target
                    guard total >= 0 else { throw node.fail("output size \(target) is larger than the transposed convolution can give from \(inSize)") }
                    let head = autoPad == "SAME_UPPER" ? total / 2 : total - total / 2
                    pads[axis] = head
                    pads[axis + 2] = total - head
                }
            } else if autoPad == "VALID" {
                pads = [0, 0, 0, 0]
            }
            let outChannels = w.shape[1] * group
            let oh = strides.h * (x.shape[2] - 1) + extra[0] + effective[0] - pads[0] - pads[2]
            let ow = strides.w * (x.shape[3] - 1) + extra[1] + effective[1] - pads[1] - pads[3]
            try context.check([x.shape[0], outChannels, Swift.max(oh, 0), Swift.max(ow, 0)], node)
            return [try Tensor.convTranspose2d(x, weight: w, bias: inputs.count > 2 ? inputs[2] : nil, stride: strides,
                                               padding: (pads[0], pads[1], pads[2], pads[3]),
                                               outputPadding: Size2D(extra[0], extra[1]), dilation: dilations, groups: group)]
        }
    }

    /// `MaxPool` and `AveragePool`: kernel_shape, strides, pads, auto_pad, ceil_mode,
    /// count_include_pad (average; ONNX's default 0 leaves padding out of the divisor).
    static func pooling(_ node: ONNXNode) throws -> Body {
        let isMax = node.opType == "MaxPool"
        try node.expectInputs(1, 1, outputs: 1...(isMax ? 2 : 1))
        if node.outputs.count == 2 && !node.outputs[1].isEmpty { throw node.fail("the Indices output is not supported") }
        try node.allowAttributes(isMax ? ["kernel_shape", "strides", "pads", "auto_pad", "ceil_mode", "dilations", "storage_order"]
                                       : ["kernel_shape", "strides", "pads", "auto_pad", "ceil_mode", "count_include_pad", "dilations"])
        guard let k = try node.ints("kernel_shape", count: 2, range: 1...ONNXNode.maxWindow) else {
            throw node.fail("the attribute 'kernel_shape' with 2 entries is required (Fovea pools 2-D)")
        }
        let kernel = Size2D(k[0], k[1])
        let strides = try pair(node, "strides"), explicitPads = try pads(node), autoPad = try autoPad(node)
        guard try pair(node, "dilations") == Size2D(1, 1) else { throw node.fail("dilated pooling is not supported") }
        guard try node.int("storage_order", 0, range: 0...0) == 0 else { throw node.fail("storage_order must be 0") }
        let ceilMode = try node.int("ceil_mode", 0, range: 0...1) == 1
        let includePad = try node.int("count_include_pad", 0, range: 0...1) == 1
        return { inputs, context in
            let x = inputs[0]!
            try require4D(x, node)
            let padding = ONNXOperatorFactory.padding(autoPad, pads: explicitPads, input: x.shape, kernel: kernel, stride: strides)
            let (pt, pb) = padding.amounts(input: x.shape[2], kernel: kernel.h, stride: strides.h, axis: 0)
            let (pl, pr) = padding.amounts(input: x.shape[3], kernel: kernel.w, stride: strides.w, axis: 1)
            let oh = convolutionOutputSize(input: x.shape[2], kernel: kernel.h, stride: strides.h, padBefore: pt, padAfter: pb, ceilMode: ceilMode)
            let ow = convolutionOutputSize(input: x.shape[3], kernel: kernel.w, stride: strides.w, padBefore: pl, padAfter: pr, ceilMode: ceilMode)
            try context.check([x.shape[0], x.shape[1], oh, ow], node)
            return [try Tensor.pool2d(x, kind: isMax ? .max : .average, kernel: kernel, stride: strides, padding: padding,
                                      ceilMode: ceilMode, countIncludePad: includePad)]
        }
    }

    /// `GlobalAveragePool`, `GlobalMaxPool`: `[N, C, H, W]` -> `[N, C, 1, 1]`.
    static func globalPooling(_ node: ONNXNode) throws -> Body {
        try node.expectInputs(1, 1)
        try node.allowAttributes([])
        let isMax = node.opType == "GlobalMaxPool"
        return { inputs, _ in
            let x = inputs[0]!
            try require4D(x, node)
            return [isMax ? try x.globalMaxPool2d() : try x.globalAvgPool2d()]
        }
    }
}
