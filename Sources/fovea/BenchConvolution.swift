import Foundation
import Fovea

/// `fovea bench --convolutions`: each convolution method (im2col + GEMM, direct, and the
/// implicit columns where the shape allows them: unpadded) on the
/// stride-1 layer shapes of the suite's models, forward alone and forward + backward, so
/// the rule that picks a method per geometry can be checked on this machine.
extension FoveaCommand.Bench {
    /// (label, batch, channels, size, output channels, kernel, padding)
    static let convolutionShapes: [(String, Int, Int, Int, Int, Int, Int)] = [
        ("LeNet-5 conv1, batch 64", 64, 1, 28, 6, 5, 2),
        ("LeNet-5 conv2, batch 64", 64, 6, 14, 16, 5, 0),
        ("LeNet-5 conv1, 1 image", 1, 1, 28, 6, 5, 2),
        ("LeNet-5 conv2, 1 image", 1, 6, 14, 16, 5, 0),
        ("LeNet_modify conv1, batch 64", 64, 1, 28, 20, 5, 0),
        ("LeNet_modify conv2, batch 64", 64, 20, 12, 50, 5, 0),
        ("CIFAR ResNet stem, batch 128", 128, 3, 32, 64, 3, 1),
        ("CIFAR ResNet 64@32, batch 128", 128, 64, 32, 64, 3, 1),
        ("CIFAR ResNet 256@8, batch 128", 128, 256, 8, 256, 3, 1),
        ("ResNet 64@56, 1 image", 1, 64, 56, 64, 3, 1),
        ("ResNet 512@7, 1 image", 1, 512, 7, 512, 3, 1),
    ]

    func benchConvolutions() throws {
        Console.write("Convolution methods, \(Parallel.threadCount) threads: median ms of the forward, then forward + backward "
                      + "with the weight gradient only (as a first layer), then with the input gradient only")
        var gen = SeededGenerator(seed: 5)
        for (label, n, c, size, cout, k, pad) in Self.convolutionShapes {
            let x = Tensor.normal([n, c, size, size], generator: &gen)
            let w = Tensor.normal([cout, c, k, k], generator: &gen)
            let macs = Double(n * cout * c * k * k * size * size)
            let repeats = max(3, min(400, Int(2e9 / macs)))
            var cells: [String] = []
            var medians: [Double] = []
            // Implicit columns need an unpadded convolution; elsewhere `.implicit` is lowered.
            let methods: [Tensor.ConvolutionMethod] = pad == 0 ? [.lowered, .direct, .implicit] : [.lowered, .direct]
            for method in methods {
                try Tensor.withConvolutionMethod(method) {
                    let forward = try time(repeats: repeats) {
                        _ = try withNoGrad { try Tensor.conv2d(x, weight: w, padding: .uniform(pad)) }
                    }.median
                    var backward: [Double] = []
                    for (xGrad, wGrad) in [(false, true), (true, false)] {
                        x.requiresGrad = xGrad
                        w.requiresGrad = wGrad
                        backward.append(try time(repeats: repeats) {
                            try Tensor.conv2d(x, weight: w, padding: .uniform(pad)).sum().backward()
                        }.median)
                    }
                    medians += [forward] + backward
                    cells.append(String(format: "%@ %.3f / %.3f / %.3f", "\(method)",
                                        forward * 1e3, backward[0] * 1e3, backward[1] * 1e3))
                }
            }
            var ratios = String(format: "direct/lowered %.2fx / %.2fx / %.2fx",
                                medians[3] / medians[0], medians[4] / medians[1], medians[5] / medians[2])
            if methods.count == 3 {
                ratios += String(format: ", implicit/lowered %.2fx / %.2fx", medians[6] / medians[0], medians[7] / medians[1])
            }
            Console.write(String(format: "%-30@ %@  %@", label, cells.joined(separator: ", "), ratios))
        }
    }
}
