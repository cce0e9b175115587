import TensorCore
import NN
import Models

// Inception v3 (InceptionV3.swift), in evaluation mode: the auxiliary head is left out. The
// blocks' branches are reached by their torchvision names.

extension Layer {
    /// Runs the named children one after another.
    fileprivate func chain(_ names: [String], _ x: ONNXValue, _ graph: ONNXGraphBuilder) throws -> ONNXValue {
        var v = x
        for name in names { v = try graph.call(self, child: name, v) }
        return v
    }
}

extension InceptionA: ONNXExportable {
    /// 1x1 | 1x1-5x5 | 1x1-3x3-3x3 | avg pool-1x1, concatenated.
    public func exportONNX(_ x: ONNXValue, to graph: ONNXGraphBuilder) throws -> ONNXValue {
        try graph.concat([
            chain(["branch1x1"], x, graph),
            chain(["branch5x5_1", "branch5x5_2"], x, graph),
            chain(["branch3x3dbl_1", "branch3x3dbl_2", "branch3x3dbl_3"], x, graph),
            chain(["pool", "branch_pool"], x, graph),
        ], axis: 1, scope: graph.name(of: self))
    }
}

extension InceptionB: ONNXExportable {
    /// 3x3 stride 2 | 1x1-3x3-3x3 stride 2 | max pool, concatenated.
    public func exportONNX(_ x: ONNXValue, to graph: ONNXGraphBuilder) throws -> ONNXValue {
        try graph.concat([
            chain(["branch3x3"], x, graph),
            chain(["branch3x3dbl_1", "branch3x3dbl_2", "branch3x3dbl_3"], x, graph),
            chain(["pool"], x, graph),
        ], axis: 1, scope: graph.name(of: self))
    }
}

extension InceptionC: ONNXExportable {
    /// 1x1 | 1x1-1x7-7x1 | 1x1-7x1-1x7-7x1-1x7 | avg pool-1x1, concatenated.
    public func exportONNX(_ x: ONNXValue, to graph: ONNXGraphBuilder) throws -> ONNXValue {
        try graph.concat([
            chain(["branch1x1"], x, graph),
            chain(["branch7x7_1", "branch7x7_2", "branch7x7_3"], x, graph),
            chain(["branch7x7dbl_1", "branch7x7dbl_2", "branch7x7dbl_3", "branch7x7dbl_4", "branch7x7dbl_5"], x, graph),
            chain(["pool", "branch_pool"], x, graph),
        ], axis: 1, scope: graph.name(of: self))
    }
}

extension InceptionD: ONNXExportable {
    /// 1x1-3x3 stride 2 | 1x1-1x7-7x1-3x3 stride 2 | max pool, concatenated.
    public func exportONNX(_ x: ONNXValue, to graph: ONNXGraphBuilder) throws -> ONNXValue {
        try graph.concat([
            chain(["branch3x3_1", "branch3x3_2"], x, graph),
            chain(["branch7x7x3_1", "branch7x7x3_2", "branch7x7x3_3", "branch7x7x3_4"], x, graph),
            chain(["pool"], x, graph),
        ], axis: 1, scope: graph.name(of: self))
    }
}

extension InceptionE: ONNXExportable {
    /// 1x1 | 1x1-(1x3, 3x1) | 1x1-3x3-(1x3, 3x1) | avg pool-1x1, concatenated.
    public func exportONNX(_ x: ONNXValue, to graph: ONNXGraphBuilder) throws -> ONNXValue {
        let b3 = try chain(["branch3x3_1"], x, graph)
        let b3dbl = try chain(["branch3x3dbl_1", "branch3x3dbl_2"], x, graph)
        return try graph.concat([
            chain(["branch1x1"], x, graph),
            chain(["branch3x3_2a"], b3, graph), chain(["branch3x3_2b"], b3, graph),
            chain(["branch3x3dbl_3a"], b3dbl, graph), chain(["branch3x3dbl_3b"], b3dbl, graph),
            chain(["pool", "branch_pool"], x, graph),
        ], axis: 1, scope: graph.name(of: self))
    }
}

extension InceptionV3: ONNXExportable {
    /// The stem, Mixed_5b-7c, global average pooling and `fc` (no auxiliary head).
    public func exportONNX(_ input: ONNXValue, to graph: ONNXGraphBuilder) throws -> ONNXValue {
        try chain(["Conv2d_1a_3x3", "Conv2d_2a_3x3", "Conv2d_2b_3x3", "maxpool1", "Conv2d_3b_1x1", "Conv2d_4a_3x3",
                   "maxpool2", "Mixed_5b", "Mixed_5c", "Mixed_5d", "Mixed_6a", "Mixed_6b", "Mixed_6c", "Mixed_6d",
                   "Mixed_6e", "Mixed_7a", "Mixed_7b", "Mixed_7c", "avgpool", "dropout", "flatten", "fc"], input, graph)
    }
}
