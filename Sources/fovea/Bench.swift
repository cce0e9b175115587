import ArgumentParser
import Foundation
import Fovea

extension FoveaCommand {
    /// `fovea bench`: prints GEMM GFLOP/s against the machine's peak, LeNet-5 training
    /// throughput and single-image inference latency. Figures, not pass/fail.
    struct Bench: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Measure GEMM GFLOP/s, LeNet-5 training images/s and inference latency.")

        @Option(help: "Training steps to time.")
        var steps = 600
        @Option(help: "Images per training step (`fovea train` uses 24).")
        var batchSize = 24
        @Option(help: "Single-image inferences to time.")
        var inferences = 2000
        @Option(help: "Peak FP32 GFLOP/s of one core, for the percentage (120: what an AVX2 FMA loop reaches on this machine's Zen 5 cores).")
        var peakGflops = 120.0
        @OptionGroup var compute: ComputeOptions

        func validate() throws {
            guard steps >= 10 else { throw ValidationError("--steps must be at least 10, got \(steps)") }
            guard batchSize >= 1 else { throw ValidationError("--batch-size must be at least 1, got \(batchSize)") }
            guard inferences >= 10 else { throw ValidationError("--inferences must be at least 10, got \(inferences)") }
        }

        func run() throws {
            compute.apply()
            let threads = Parallel.threadCount
            Console.write("Fovea bench: \(threads) threads, AVX2/FMA micro-kernel: \(GEMM.usesAVX2 ? "yes" : "no")")
            benchGEMM(threads: threads)
            try benchLeNetTraining()
            try benchLeNetInference()
        }

        /// Times `body` `repeats` times and returns the best and median seconds.
        func time(repeats: Int, _ body: () throws -> Void) rethrows -> (best: Double, median: Double) {
            var times: [Double] = []
            for _ in 0..<repeats {
                let t0 = DispatchTime.now().uptimeNanoseconds
                try body()
                times.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9)
            }
            times.sort()
            return (times[0], times[times.count / 2])
        }

        func benchGEMM(threads: Int) {
            var gen = SeededGenerator(seed: 1)
            for n in [256, 512, 1024] {
                let a = Tensor.uniform([n, n], low: -1, high: 1, generator: &gen)
                let b = Tensor.uniform([n, n], low: -1, high: 1, generator: &gen)
                let c = Tensor(zeros: [n, n])
                let flops = 2.0 * Double(n * n * n)
                let repeats = max(3, Int(2e10 / flops))
                for t in Set([1, threads]).sorted() {
                    let (best, median) = time(repeats: repeats) {
                        GEMM.sgemm(m: n, n: n, k: n, a: a.pointer, lda: n, b: b.pointer, ldb: n, c: c.pointer, ldc: n, threads: t)
                    }
                    let g = flops / best / 1e9
                    Console.write(String(format: "GEMM %4d x %4d x %4d, %d thread%@: %6.1f GFLOP/s best, %6.1f median; %3.0f%% of peak (%.0f GFLOP/s x %d)",
                                         n, n, n, t, t == 1 ? " " : "s", g, flops / median / 1e9,
                                         100 * g / (peakGflops * Double(t)), peakGflops, t))
                }
            }
        }

        /// Batches of `batchSize` MNIST images when the bundled data is found, random ones otherwise.
        func trainingBatches() throws -> (images: [Tensor], labels: [[Int]], source: String) {
            if let dir = try? MNIST.defaultDirectory(), let data = try? MNIST.load(split: .train, from: dir, verify: false) {
                let norm = try data.normalized(mean: [MNIST.mean], std: [MNIST.std])
                let loader = try DataLoader(norm, batchSize: batchSize, shuffle: true, seed: 7, dropLast: true)
                var imgs: [Tensor] = [], labels: [[Int]] = []
                for b in loader.batches(epoch: 1).prefix(steps) { imgs.append(b.images); labels.append(b.labels) }
                return (imgs, labels, "MNIST")
            }
            var gen = SeededGenerator(seed: 3)
            let imgs = (0..<steps).map { _ in Tensor.normal([batchSize, 1, 28, 28], generator: &gen) }
            let labels = (0..<steps).map { _ in (0..<batchSize).map { _ in Int(gen.next() % 10) } }
            return (imgs, labels, "random data")
        }

        func benchLeNetTraining() throws {
            GlobalRandom.seed(1)
            let net = try LeNet5()
            let sgd = try SGD(parameters: net.parameters, learningRate: 0.01, momentum: 0.9)
            let (images, labels, source) = try trainingBatches()
            func step(_ i: Int) throws {
                let loss = try Tensor.crossEntropy(logits: net(images[i % images.count]), targets: labels[i % labels.count])
                sgd.zeroGrad()
                try loss.backward()
                sgd.step()
            }
            for i in 0..<10 { try step(i) }   // warm-up
            let t0 = DispatchTime.now().uptimeNanoseconds
            for i in 0..<steps { try step(i) }
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
            let ips = Double(steps * batchSize) / seconds
            // Forward MACs per image: conv1 6*28*28*25, conv2 16*10*10*150, dense 400*120 + 120*84 + 84*10.
            let convMACs: Double = 6 * 784 * 25 + 16 * 100 * 150
            let denseMACs: Double = 400 * 120 + 120 * 84 + 84 * 10
            let macs = convMACs + denseMACs
            Console.write(String(format: "LeNet-5 training (batch %d, SGD momentum, %@): %.0f images/s, %.2f ms/step, %.1f GFLOP/s (3x forward FLOPs); one 60,000-image epoch ~ %.1fs",
                                 batchSize, source, ips, seconds / Double(steps) * 1000, ips * 3 * 2 * macs / 1e9, 60000 / ips))
        }

        func benchLeNetInference() throws {
            GlobalRandom.seed(2)
            let net = try LeNet5()
            net.eval()
            var gen = SeededGenerator(seed: 5)
            let image = Tensor.normal([1, 1, 28, 28], generator: &gen)
            try withNoGrad {
                for _ in 0..<50 { _ = try net(image) }
                let (best, median) = try time(repeats: inferences) { _ = try net(image) }
                Console.write(String(format: "LeNet-5 single-image inference: %.1f µs median, %.1f µs best (%d runs)",
                                     median * 1e6, best * 1e6, inferences))
            }
        }
    }
}
