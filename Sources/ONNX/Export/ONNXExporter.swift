import Foundation
import TensorCore
import NN

/// Writes Fovea models as ONNX files (opset 13), like `torch.onnx.export` in evaluation mode:
/// one exporter for every model, driven by the graph its forward pass records (`ModelGraph`),
/// so a user's own layers export without ONNX code of their own.
///
/// The graph takes `input`, `[N, C, H, W]` floats with a free batch size `N`, and gives
/// `logits`, `[N, classes]`. Parameters and running statistics become initializers under
/// their state-dict names, so the file's weights line up with a PyTorch `state_dict`. The
/// spatial size is fixed at the one exported for (adaptive pooling is written for it).
public enum ONNXExporter {
    /// The operator set written: 13, which every current runtime reads.
    public static let opsetVersion: Int64 = 13
    /// IR version 7, the one that goes with opset 13.
    public static let irVersion: Int64 = 7
    /// The graph input's name.
    public static let inputName = "input"
    /// The graph output's name.
    public static let outputName = "logits"

    /// Counts of what an export wrote.
    public struct Summary: Sendable, Equatable {
        public var nodes: Int
        public var initializers: Int
        public var parameters: Int
        public var opset: Int64
        public var bytes: Int
        /// The output shape for one image, `[1, classes]`.
        public var outputShape: [Int]
    }

    /// The batch size of the example the graph is captured on. Any size works for the file
    /// (its batch is the symbolic `N`); 2 rather than 1 tells the batch axis apart from the
    /// axes of size 1 when reshape targets are written.
    static let captureBatch = 2

    /// The ONNX model of `model` for inputs of `inputShape`, `[C, H, W]`.
    ///
    /// The model runs once in evaluation mode on a zero example (with gradients off), its
    /// graph captured (`ModelGraph`), and goes back to the mode it was in; each live node of
    /// the graph becomes ONNX nodes named after its scope (`layer1.0.conv1/Conv`). Throws
    /// `ONNXError.unsupportedLayer` naming the first layer or op without an ONNX form, or a
    /// forward a graph cannot capture.
    public static func model(_ model: Layer, inputShape: [Int], name: String = "fovea",
                             metadata: [String: String] = [:]) throws -> Onnx_ModelProto {
        guard inputShape.count == 3, inputShape.allSatisfy({ $0 > 0 }) else {
            throw ONNXError.invalidModel("the export input shape must be [C, H, W] with positive sizes, got \(describe(inputShape))")
        }
        let wasTraining = model.isTraining
        model.eval()
        defer { model.train(wasTraining) }
        let example = Tensor(zeros: [captureBatch] + inputShape)
        let (captured, failure, _) = try withNoGrad { try ModelGraph.capture(model, input: example) }
        guard let captured else {
            throw ONNXError.unsupportedLayer(type: model.typeName, name: "", failure ?? "its forward pass cannot be captured as a graph")
        }

        let builder = ONNXGraphBuilder(model: model)
        _ = builder.unique(inputName)
        _ = builder.unique(outputName)
        var walk = ONNXGraphWalk(model: model, graph: captured, builder: builder, inputName: inputName)
        let output = try walk.run()
        // The node writing the result takes the public name, or an Identity gives it that name
        // (the output is the input, or a value some other node also reads).
        if !builder.renameLastOutput(output, to: outputName) {
            var identity = Onnx_NodeProto()
            identity.opType = "Identity"; identity.name = builder.unique("output/Identity")
            identity.input = [output]; identity.output = [outputName]
            builder.append(identity)
        }

        var graph = Onnx_GraphProto()
        graph.name = name
        graph.node = builder.nodes
        graph.initializer = builder.initializers
        graph.input = [valueInfo(inputName, dims: [nil] + inputShape.map { Optional($0) })]
        graph.output = [valueInfo(outputName, dims: [nil] + captured.shape(of: captured.output).dropFirst().map { Optional($0) })]

        var proto = Onnx_ModelProto()
        proto.irVersion = irVersion
        proto.producerName = "Fovea"
        proto.producerVersion = "1"
        proto.graph = graph
        var opset = Onnx_OperatorSetIdProto()
        opset.domain = ""
        opset.version = opsetVersion
        proto.opsetImport = [opset]
        proto.metadataProps = metadata.sorted { $0.key < $1.key }.map { key, value in
            var entry = Onnx_StringStringEntryProto(); entry.key = key; entry.value = value; return entry
        }
        return proto
    }

    /// A FLOAT tensor type with fixed sizes, or the symbolic batch `N` for nil.
    static func valueInfo(_ name: String, dims: [Int?]) -> Onnx_ValueInfoProto {
        var tensorType = Onnx_TypeProto.Tensor()
        tensorType.elemType = Int32(Onnx_TensorProto.DataType.float.rawValue)
        var shape = Onnx_TensorShapeProto()
        shape.dim = dims.map { d in
            var dim = Onnx_TensorShapeProto.Dimension()
            if let d { dim.dimValue = Int64(d) } else { dim.dimParam = "N" }
            return dim
        }
        tensorType.shape = shape
        var type = Onnx_TypeProto()
        type.tensorType = tensorType
        var info = Onnx_ValueInfoProto()
        info.name = name
        info.type = type
        return info
    }

    /// The serialized bytes of `model(...)`.
    public static func data(_ model: Layer, inputShape: [Int], name: String = "fovea",
                            metadata: [String: String] = [:]) throws -> Data {
        try serialize(self.model(model, inputShape: inputShape, name: name, metadata: metadata))
    }

    /// Protobuf bytes of `proto`; models over protobuf's 2 GiB message limit are refused.
    public static func serialize(_ proto: Onnx_ModelProto) throws -> Data {
        do {
            return try proto.serializedBytes()
        } catch {
            throw ONNXError.invalidModel("could not serialize the model: \(error) (ONNX files hold at most 2 GiB)")
        }
    }

    /// Writes the ONNX file of `model` to `url` and says what it holds.
    @discardableResult
    public static func write(_ model: Layer, inputShape: [Int], to url: URL, name: String = "fovea",
                             metadata: [String: String] = [:]) throws -> Summary {
        let proto = try self.model(model, inputShape: inputShape, name: name, metadata: metadata)
        let bytes = try serialize(proto)
        try bytes.write(to: url)
        let dims = proto.graph.output[0].type.tensorType.shape.dim
        return Summary(nodes: proto.graph.node.count, initializers: proto.graph.initializer.count,
                       parameters: model.parameterCount, opset: opsetVersion, bytes: bytes.count,
                       outputShape: [1] + dims.dropFirst().map { Int($0.dimValue) })
    }
}
