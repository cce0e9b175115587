// swift-tools-version: 6.0
// Fovea's libFuzzer targets: a package of its own, so the root's `swift build` and
// `swift test` never see it. Build and run with Scripts/fuzz.sh; it builds with
// `swift build --package-path Fuzz -c release --sanitize fuzzer -Xswiftc -sanitize=fuzzer,address
// -Xcc -fsanitize=address`, which instruments every module (Fovea's and its dependencies') for
// coverage and ASan, compiles each executable as a library and links libFuzzer's main.
//
// Each target is a folder Sources/<name>/ with one file (not main.swift) defining
// LLVMFuzzerTestOneInput through `FuzzTarget.run`; adding one is a folder and a line below.
import PackageDescription
import Foundation

// SwiftPM names a path dependency after its folder: the checkout's name, whatever it is.
let fovea = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().lastPathComponent.lowercased()

let fuzzTargets = [
    "FuzzPNG",          // PNG.decode, then the image's tensor, grey and colour conversions
    "FuzzJPEG",         // JPEG.decode, then the same uses
    "FuzzIDX",          // IDX.parse and its values, then MNIST.load over the bytes
    "FuzzNumPy",        // NumPy.decode (.npy) and NumPyArchive.decode (.npz, stored or deflated)
    "FuzzSafetensors",  // Safetensors.decode, then Classifier: rebuild from metadata, predict one image
    "FuzzONNX",         // ONNXImporter.load(data:), then a forward pass on its declared input
    "FuzzLabeledCSV",   // LabeledCSV.load over a CSV beside two valid images
    "FuzzService",      // InferenceService.predict / .activations (no HTTP) with LeNet-5
    "FuzzHTTP",         // raw bytes to a real InferenceServer on loopback; a 5xx other than 503 is a finding
]

let package = Package(
    name: "FoveaFuzz",
    dependencies: [.package(path: "..")],
    targets: [
        .target(name: "FuzzSupport", dependencies: [.product(name: "Fovea", package: fovea)]),
    ] + fuzzTargets.map { name in
        .executableTarget(name: name, dependencies: ["FuzzSupport", .product(name: "Fovea", package: fovea)])
    },
    swiftLanguageModes: [.v6]
)
