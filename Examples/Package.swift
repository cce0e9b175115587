// swift-tools-version: 6.0
// Examples of using Fovea as a library, built against this checkout (`.package(path: "..")`).
// Run one from the repository root: `swift run -c release --package-path Examples CustomModel`.
import PackageDescription

let package = Package(
    name: "FoveaExamples",
    dependencies: [
        // Named, so that the product is found whatever the checkout's folder is called.
        .package(name: "Fovea", path: ".."),
    ],
    targets: [
        // docs/DefineYourOwnModel.md's program: a custom residual network written plainly,
        // trained compiled on an MNIST subset, saved, loaded, exported to ONNX and served.
        .executableTarget(name: "CustomModel", dependencies: [.product(name: "Fovea", package: "Fovea")]),
    ],
    swiftLanguageModes: [.v6]
)
