import TensorCore
import NN

// The layers a captured graph records whole (`PrimitiveLayer`s) as ONNX nodes, in evaluation mode.

extension ONNXGraphBuilder {
    /// Writes `module` applied to the operand of `c`; returns the ONNX name of its result.
    func write(module: Layer, _ c: ONNXNodeContext) throws -> String {
        let x = c.inputs[0], scope = c.scope
        switch module {
        case let bn as BatchNorm:
            guard !bn.isTraining else { throw c.unsupported("batch norm in training mode uses the batch's statistics") }
            return batchNormalization(x, features: bn.features, weight: bn.weight.map { constant($0, scope: scope) },
                                      bias: bn.bias.map { constant($0, scope: scope) },
                                      mean: constant(bn.runningMean, scope: scope), variance: constant(bn.runningVar, scope: scope),
                                      eps: bn.eps, momentum: bn.momentum, scope: scope)
        case let dropout as DropoutLayer:
            // The identity in evaluation, the mode models are exported in: nothing to write.
            guard !dropout.isTraining || dropout.p == 0 else { throw c.unsupported("dropout in training mode is random") }
            return x
        case let embedding as Embedding:
            // Gather(weight, indices): the indices arrive as floats, as Fovea keeps them.
            let indices = node("Cast", inputs: [x], attributes: [.int("to", Int(Onnx_TensorProto.DataType.int64.rawValue))],
                               scope: scope)
            return node("Gather", inputs: [constant(embedding.weight, scope: scope), indices], attributes: [.int("axis", 0)],
                        scope: scope)
        default:
            throw ONNXError.unsupportedLayer(type: module.typeName, name: scope,
                                             "the captured graph records it as one module, and the exporter has no ONNX form for it")
        }
    }
}
