// swift-tools-version: 6.0
// Fovea: a convolutional-neural-network framework for Swift on Linux.
// Dependencies run one way: TensorCore <- NN <- Optimizers <- Models <- Datasets/Interop/Metrics <- Training <- Visualize <- Serving <- Fovea <- fovea
// (DatasetDownload stands on Datasets alone and joins at Fovea).
import PackageDescription

let package = Package(
    name: "Fovea",
    products: [
        .library(name: "Fovea", targets: ["Fovea"]),
        .executable(name: "fovea", targets: ["fovea"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.2"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-protobuf.git", from: "1.39.0"),
    ],
    targets: [
        // C kernels: packed SIMD GEMM and im2col, with AVX2/FMA chosen at run time
        // through function attributes, so no compiler flags are needed.
        .target(name: "CFoveaKernels"),
        .systemLibrary(name: "CZlib", path: "Sources/CZlib"),
        .systemLibrary(name: "CPNG", path: "Sources/CPNG"),
        // JPEG through libjpeg(-turbo), with its fatal errors turned into return codes.
        .target(name: "CFoveaJPEG", linkerSettings: [.linkedLibrary("jpeg")]),

        .target(name: "TensorCore", dependencies: ["CFoveaKernels"]),
        .target(name: "NN", dependencies: ["TensorCore"]),
        .target(name: "Optimizers", dependencies: ["TensorCore", "NN", "CFoveaKernels"]),
        .target(name: "Models", dependencies: ["TensorCore", "NN"]),
        .target(name: "Datasets", dependencies: ["TensorCore", "CZlib", "CPNG", "CFoveaJPEG"]),
        .target(name: "Interop", dependencies: ["TensorCore", "NN"]),
        // ONNX export of the zoo and import of CNN graphs; Swift code generated from
        // Proto/onnx_subset.proto is committed (Scripts/generate_onnx_swift.sh), no build plugin.
        .target(name: "ONNX", dependencies: ["TensorCore", "NN", "Models", .product(name: "SwiftProtobuf", package: "swift-protobuf")],
                exclude: ["Proto"]),
        // Classification and regression metrics on plain arrays (no tensors), checked against scikit-learn.
        .target(name: "Metrics"),
        .target(name: "Training", dependencies: ["TensorCore", "NN", "Optimizers", "Models", "Datasets", "Interop", "Metrics"]),
        // SVG charts, PNG image grids, feature maps, saliency and the HTML run report.
        .target(name: "Visualize", dependencies: ["TensorCore", "NN", "Datasets", "Metrics", "Training"]),
        // The inference server and the in-browser visualizer: Hummingbird 2 on SwiftNIO for HTTP
        // (NIO's parser enforces the header limits), swift-log for the request log and
        // swift-prometheus for `GET /metrics`.
        .target(name: "Serving", dependencies: ["TensorCore", "NN", "Datasets", "Training", "Visualize",
                                                // Hummingbird's dependency swift-metrics has a module
                                                // named Metrics, as Fovea has: renamed for it here.
                                                .product(name: "Hummingbird", package: "hummingbird", moduleAliases: ["Metrics": "SwiftMetrics"]),
                                                .product(name: "HummingbirdCore", package: "hummingbird"),
                                                .product(name: "Logging", package: "swift-log"),
                                                .product(name: "NIOCore", package: "swift-nio"),
                                                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                                                .product(name: "Prometheus", package: "swift-prometheus")]),
        // `fovea data download`: mirrors, resumable HTTP (FoundationNetworking), SHA-256 checks, tar.
        .target(name: "DatasetDownload", dependencies: ["Datasets"]),
        .target(name: "Fovea", dependencies: ["TensorCore", "NN", "Optimizers", "Models", "Datasets", "Training", "Interop", "Metrics", "Visualize", "Serving", "DatasetDownload", "ONNX"]),
        .executableTarget(name: "fovea", dependencies: [
            "Fovea",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"),
        ]),

        .target(name: "FoveaTestSupport", dependencies: ["TensorCore", .product(name: "Hummingbird", package: "hummingbird", moduleAliases: ["Metrics": "SwiftMetrics"]),
                                                       .product(name: "Logging", package: "swift-log"),
                                                       .product(name: "NIOCore", package: "swift-nio")],
                path: "Tests/FoveaTestSupport"),
        .testTarget(name: "TensorCoreTests", dependencies: ["TensorCore", "FoveaTestSupport"], exclude: ["Golden"]),
        .testTarget(name: "NNTests", dependencies: ["NN", "FoveaTestSupport"], exclude: ["Golden"]),
        .testTarget(name: "OptimizersTests", dependencies: ["Optimizers", "NN", "FoveaTestSupport"], exclude: ["Golden"]),
        .testTarget(name: "ModelsTests", dependencies: ["Models", "NN", "Optimizers", "Interop", "FoveaTestSupport"], exclude: ["Golden"]),
        .testTarget(name: "DatasetsTests", dependencies: ["Datasets", "FoveaTestSupport"], exclude: ["Golden"]),
        .testTarget(name: "DatasetDownloadTests", dependencies: ["DatasetDownload", "Datasets", "FoveaTestSupport"]),
        .testTarget(name: "InteropTests", dependencies: ["Interop", "NN", "FoveaTestSupport"]),
        .testTarget(name: "ONNXTests", dependencies: ["ONNX", "Models", "NN", "Optimizers", "FoveaTestSupport"], exclude: ["Golden"]),
        .testTarget(name: "MetricsTests", dependencies: ["Metrics", "FoveaTestSupport"], exclude: ["Golden"]),
        .testTarget(name: "VisualizeTests", dependencies: ["Visualize", "Fovea", "FoveaTestSupport"]),
        .testTarget(name: "ServingTests", dependencies: ["Serving", "Fovea", "FoveaTestSupport"]),
        .testTarget(name: "TrainingTests", dependencies: ["Training", "Fovea", "FoveaTestSupport"]),
        // Runs the built `fovea` executable as a user would.
        .testTarget(name: "FoveaCLITests", dependencies: ["fovea", "Datasets", "DatasetDownload", "Interop", "Serving", "ONNX", "FoveaTestSupport"]),
    ],
    swiftLanguageModes: [.v6]
)
