import ArgumentParser
import Foundation
import Fovea

extension FoveaCommand {
    /// `fovea bench`: prints GEMM GFLOP/s against the machine's peak, LeNet-5 training
    /// throughput and single-image inference latency. Figures, not pass/fail.
    struct Bench: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Measure GEMM GFLOP/s, LeNet-5 training images/s and inference latency.")

        @Option(parsing: .unconditional, help: "Training steps to time.")
        var steps = 600
        @Option(parsing: .unconditional, help: "Images per training step (`fovea train` uses 24).")
        var batchSize = 24
        @Option(parsing: .unconditional, help: "Single-image inferences to time.")
        var inferences = 2000
        @Option(parsing: .unconditional, help: "Peak FP32 GFLOP/s of one core, for the percentage (default: measured here with a loop of independent FMAs).")
        var peakGflops: Double?
        @Flag(help: "Time only GEMM: squares from 128 to 2048 on one thread and on --threads, against the measured peak.")
        var gemm = false
        @Flag(help: "Time only the report pictures: a 1000-class confusion matrix and a 10,000-point ROC curve.")
        var plots = false
        @Option(help: "Keep the benchmark's pictures in this folder (default: a temporary folder, removed).")
        var keepPlots: String?
        @Flag(help: "Time only the convolution methods (im2col + GEMM, direct) on the stride-1 layer shapes of the suite's models, forward and forward + backward.")
        var convolutions = false
        @Flag(help: "Time only data loading in training: LeNet-5 epochs through the Trainer with and without augmentation and background prefetching, and how long the steps waited for batches.")
        var loader = false
        @Flag(help: "Time only the inference server: concurrent clients posting PNG digits to /v1/predict over loopback.")
        var server = false
        @Flag(help: "Run the engine suite: LeNet-5, LeNet_modify and CIFAR ResNet-18 training, single-image LeNet-5, ResNet-18, ResNet-50 and VGG-16 inference, each in its own process with its peak memory.")
        var suite = false
        @Flag(help: "With --suite: run Scripts/pytorch_bench.py (needs torch and torchvision) with the same cases and threads and print both with the ratio.")
        var compare = false
        @Option(help: "With --suite: another build's fovea executable (an older commit's, say), whose suite cases run alternated with this build's; the table gives this build's figures against it.")
        var baseline: String?
        @Option(help: "Run one suite case in this process and print it as JSON (what --suite runs in each child).")
        var `case`: String?
        @Option(parsing: .unconditional, help: "Training steps of the suite's LeNet cases (CIFAR ResNet-18: steps / 60).")
        var suiteSteps = 300
        @Option(parsing: .unconditional, help: "Rounds of --suite: every case runs this many times (with --compare, each Fovea run next to a PyTorch run), and the ratios' median is printed.")
        var rounds = 3
        @Option(parsing: .unconditional, help: "Concurrent clients for --server.")
        var clients = 16
        @Option(parsing: .unconditional, help: "Requests each client sends for --server.")
        var requests = 500
        @OptionGroup var compute: ComputeOptions

        func validate() throws {
            try OptionCheck.whole("--steps", steps, in: 10...1_000_000)
            try OptionCheck.whole("--batch-size", batchSize, in: 1...OptionCheck.maximumBatchSize)
            try OptionCheck.whole("--rounds", rounds, in: 1...1000)
            try OptionCheck.whole("--inferences", inferences, in: 10...10_000_000)
            try OptionCheck.whole("--suite-steps", suiteSteps, in: 1...1_000_000)
            try OptionCheck.whole("--clients", clients, in: 1...256)
            try OptionCheck.whole("--requests", requests, in: 1...1_000_000)
            try OptionCheck.real("--peak-gflops", peakGflops, .positive)
            try OptionCheck.path("--keep-plots", keepPlots)
            try OptionCheck.path("--baseline", baseline)
            if let baseline, !FileManager.default.isExecutableFile(atPath: baseline) {
                throw ValidationErrorText("--baseline \(baseline): not an executable file")
            }
        }

        func run() throws {
            try compute.run(runWithThreads)
        }

        /// `run()` inside the thread count of `--threads`.
        private func runWithThreads() throws {
            let threads = Parallel.threadCount
            if plots { return try benchPlots() }
            if server { return try benchServer() }
            if loader { return try benchLoader() }
            if convolutions { return try benchConvolutions() }
            if gemm { return benchGEMM(threads: threads, sizes: [128, 256, 512, 1024, 2048]) }
            if let name = `case` { return try Console.write(Self.json(runCase(name, threads: threads))) }
            if suite || compare || baseline != nil { return try runSuite(threads: threads) }
            Console.write("Fovea bench: \(threads) threads, GEMM micro-kernel: \(GEMM.kernelName)")
            benchGEMM(threads: threads)
            try benchLeNetTraining()
            try benchLoader()
            try benchLeNetInference()
            try benchPlots()
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

        func benchGEMM(threads: Int, sizes: [Int] = [256, 512, 1024]) {
            var peak = peakGflops ?? GEMM.measuredPeakGFLOPS()
            Console.write(String(format: "Peak FP32 of one core: %.1f GFLOP/s (%@)", peak,
                                 peakGflops == nil ? "measured: independent 8-wide FMAs, best of 5, probed again before each size" : "--peak-gflops"))
            var gen = SeededGenerator(seed: 1)
            for n in sizes {
                let a = Tensor.uniform([n, n], low: -1, high: 1, generator: &gen)
                let b = Tensor.uniform([n, n], low: -1, high: 1, generator: &gen)
                let c = Tensor(zeros: [n, n])
                let flops = 2.0 * Double(n * n * n)
                let repeats = max(3, Int(2e10 / flops))
                // A probe taken while the machine was busy reads low; the best one so far is the peak.
                if peakGflops == nil { peak = max(peak, GEMM.measuredPeakGFLOPS()) }
                for t in Set([1, threads]).sorted() {
                    let (best, median) = time(repeats: repeats) {
                        GEMM.sgemm(m: n, n: n, k: n, a: a.pointer, lda: n, b: b.pointer, ldb: n, c: c.pointer, ldc: n, threads: t)
                    }
                    let g = flops / best / 1e9
                    Console.write(String(format: "GEMM %4d x %4d x %4d, %d thread%@: %6.1f GFLOP/s best, %6.1f median; %3.0f%% of peak (%.0f GFLOP/s x %d)",
                                         n, n, n, t, t == 1 ? " " : "s", g, flops / median / 1e9,
                                         100 * g / (peak * Double(t)), peak, t))
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
            let plain = try benchLeNetTraining(augment: false)
            let augmented = try benchLeNetTraining(augment: true)
            Console.write(String(format: "LeNet-5 training with augmentation (one seeded affine warp per image, `fovea train --augment`): %.0f images/s, %.0f%% of the plain run's %.0f",
                                 augmented, 100 * augmented / plain, plain))
        }

        /// Times `steps` LeNet-5 SGD steps; returns images per second (printed for the plain run).
        @discardableResult
        func benchLeNetTraining(augment: Bool) throws -> Double {
            GlobalRandom.seed(1)
            let net = try LeNet5()
            let sgd = try SGD(parameters: net.parameters, learningRate: 0.01, momentum: 0.9)
            let (images, labels, source) = try trainingBatches()
            func step(_ i: Int) throws {
                let batch = augment ? try Augmentation.translateRotateScale.apply(batch: images[i % images.count], seed: UInt64(i))
                    : images[i % images.count]
                let loss = try Tensor.crossEntropy(logits: net(batch), targets: labels[i % labels.count])
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
            if !augment {
                Console.write(String(format: "LeNet-5 training (batch %d, SGD momentum, %@): %.0f images/s, %.2f ms/step, %.1f GFLOP/s (3x forward FLOPs); one 60,000-image epoch ~ %.1fs",
                                     batchSize, source, ips, seconds / Double(steps) * 1000, ips * 3 * 2 * macs / 1e9, 60000 / ips))
            }
            return ips
        }

        /// LeNet-5 epochs over `steps x batchSize` MNIST images through `Trainer.trainEpoch`
        /// (what `fovea train` runs): plain, augmented with batches built when needed, and
        /// augmented with two batches prefetched on a background thread. Prints images/s and
        /// the share of the epoch the steps spent waiting for data.
        func benchLoader() throws {
            let dir = try MNIST.defaultDirectory()
            let all = try MNIST.load(split: .train, from: dir, verify: false)
            let data = try all.subset(0..<min(all.count, steps * batchSize)).normalized(mean: [MNIST.mean], std: [MNIST.std])
            func epoch(augment: Bool, prefetch: Int) throws -> EpochRecord {
                GlobalRandom.seed(1)
                let net = try LeNet5()
                let trainer = Trainer(model: net, optimizer: try SGD(parameters: net.parameters, learningRate: 0.01, momentum: 0.9), verbose: false)
                var loader = try DataLoader(data, batchSize: batchSize, shuffle: true, seed: 7)
                if augment { loader = try loader.augmented(with: .translateRotateScale) }
                if prefetch > 0 { loader = try loader.prefetching(depth: prefetch) }
                _ = try trainer.trainEpoch(try DataLoader(data.subset(0..<min(data.count, 20 * batchSize)), batchSize: batchSize), epoch: 1)   // warm-up
                return try trainer.trainEpoch(loader, epoch: 1)
            }
            let cases: [(String, Bool, Int)] = [("plain, batches built when needed", false, 0), ("plain, prefetch 2", false, 2),
                                                ("augmented, batches built when needed", true, 0), ("augmented, prefetch 2 (fovea train --augment)", true, 2)]
            var plain = 0.0
            for (name, augment, prefetch) in cases {
                let r = try epoch(augment: augment, prefetch: prefetch)
                if plain == 0 { plain = r.imagesPerSecond }
                let wait = r.dataWaitSeconds ?? 0
                Console.write(String(format: "LeNet-5 epoch of %d images through the Trainer, %@: %.0f images/s (%.0f%% of the first), steps waited %.3fs for data (%.1f%% of %.2fs)",
                                     data.count, name, r.imagesPerSecond, 100 * r.imagesPerSecond / plain, wait, 100 * wait / r.seconds, r.seconds))
            }
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

        /// Builds and writes the two largest pictures a report can hold, a 1000-class confusion
        /// matrix (100,000 predictions) and a 10,000-point ROC curve, and prints the time and file
        /// size of each; with chromium installed, also the time a headless browser takes to
        /// screenshot each file, next to the same for an empty SVG (the browser's start-up).
        func benchPlots() throws {
            var gen = SeededGenerator(seed: 11)
            let classes = 1000, samples = 100_000
            let labels = (0..<samples).map { _ in Int(gen.next() % UInt64(classes)) }
            let predicted = labels.map { gen.next() % 5 == 0 ? Int(gen.next() % UInt64(classes)) : $0 }
            let folder = keepPlots.map { URL(fileURLWithPath: $0) }
                ?? FileManager.default.temporaryDirectory.appendingPathComponent("fovea-bench-plots-\(getpid())")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            defer { if keepPlots == nil { try? FileManager.default.removeItem(at: folder) } }

            let matrixURL = folder.appendingPathComponent("confusion_1000.svg")
            let (matrixTime, _) = try time(repeats: 3) {
                let matrix = try ConfusionMatrix(labels: labels, predictions: predicted, classCount: classes)
                try ConfusionMatrixPlot(matrix).svg().write(to: matrixURL)
            }
            let positives = (0..<10_000).map { _ in gen.next() % 2 == 0 }
            let scores = positives.map { p -> Double in Double(gen.next() % 1_000_000_000) / 1e9 + (p ? 0.3 : 0) }
            let rocURL = folder.appendingPathComponent("roc_10000.svg")
            var points = 0
            let (rocTime, _) = try time(repeats: 3) {
                let curve = try ROCCurve(positives: positives, scores: scores, dropIntermediate: false)
                points = curve.falsePositiveRates.count
                try CurvePlots.roc([("random scores", curve)]).write(to: rocURL)
            }
            func size(_ url: URL) -> Double {
                Double((try? FileManager.default.attributesOfItem(atPath: url.path)[.size] as? Int) ?? 0) / 1e6
            }
            Console.write(String(format: "Confusion matrix, %d classes from %d predictions: built and written in %.0f ms, %.2f MB",
                                 classes, samples, matrixTime * 1000, size(matrixURL)))
            Console.write(String(format: "ROC curve, %d points: built and written in %.0f ms, %.2f MB", points, rocTime * 1000, size(rocURL)))
            guard let browser = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].first(where: FileManager.default.isExecutableFile) else {
                Console.write("Browser rendering: skipped (no chromium installed)")
                return
            }
            let emptyURL = folder.appendingPathComponent("empty.svg")
            try SVGDocument(width: 800, height: 800).write(to: emptyURL)
            func screenshot(_ url: URL) throws -> Double {
                let process = Process()
                process.executableURL = URL(fileURLWithPath: browser)
                process.arguments = ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--window-size=1400,1400",
                                     "--screenshot=" + folder.appendingPathComponent("shot.png").path, url.absoluteString]
                process.standardOutput = FileHandle.nullDevice
                process.standardError = FileHandle.nullDevice
                let t0 = DispatchTime.now().uptimeNanoseconds
                try process.run()
                process.waitUntilExit()
                return Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
            }
            let base = try (0..<3).map { _ in try screenshot(emptyURL) }.sorted()[1]
            let matrixShot = try (0..<3).map { _ in try screenshot(matrixURL) }.sorted()[1]
            let rocShot = try (0..<3).map { _ in try screenshot(rocURL) }.sorted()[1]
            Console.write(String(format: "Headless chromium screenshot (median of 3): empty SVG %.2f s, confusion matrix %.2f s (+%.2f), ROC %.2f s (+%.2f)",
                                 base, matrixShot, matrixShot - base, rocShot, rocShot - base))
        }

        /// Starts the inference server on a free loopback port with a LeNet-5 trained for 400
        /// steps, and has `clients` threads each send `requests` PNG digits to `/v1/predict` on
        /// one keep-alive connection; prints requests per second and latency percentiles.
        func benchServer() throws {
            guard clients >= 1, requests >= 1 else { throw ValidationError("--clients and --requests must be at least 1") }
            let folder = FileManager.default.temporaryDirectory.appendingPathComponent("fovea-bench-server-\(getpid())")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: folder) }
            GlobalRandom.seed(3)
            let mnist = try MNIST.load(split: .test, from: try MNIST.defaultDirectory(), verify: false)
            let net = try LeNet5()
            let weights = folder.appendingPathComponent("model.safetensors")
            try Checkpoint.save(net, metadata: ["model": "lenet5", "input": "1x28x28", "classes": "10",
                                                "normalize_mean": "\(MNIST.mean)", "normalize_std": "\(MNIST.std)"], to: weights)
            let digits = try (0..<64).map { try PNG.encode(Image(tensor: mnist.subset([$0]).images)) }
            let server = try InferenceServer(service: try InferenceService(weights: weights), port: 0,
                                             limits: .init(maxConcurrent: max(64, clients * 2)))
            let port = try server.start()
            defer { server.shutdown() }
            let latencies = UnsafeMutableBufferPointer<Double>.allocate(capacity: clients * requests)
            defer { latencies.deallocate() }
            let failures = UnsafeMutableBufferPointer<Int>.allocate(capacity: clients)
            failures.initialize(repeating: 0)
            defer { failures.deallocate() }
            let box = UncheckedSendable((latencies, failures))
            let t0 = DispatchTime.now().uptimeNanoseconds
            DispatchQueue.concurrentPerform(iterations: clients) { c in
                let (lat, fail) = box.value
                guard let client = try? LoopbackClient(port: port) else { fail[c] = requests; return }
                for r in 0..<requests {
                    let start = DispatchTime.now().uptimeNanoseconds
                    let ok = (try? client.send("POST", "/v1/predict", body: digits[(c * 7 + r) % digits.count],
                                               headers: ["Content-Type": "image/png"]))?.status == 200
                    lat[c * requests + r] = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
                    if !ok { fail[c] += 1 }
                }
            }
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
            let sorted = latencies.sorted()
            func percentile(_ p: Double) -> Double { sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))] }
            Console.write(String(format: "Inference server, %d clients x %d requests (PNG digits to /v1/predict, LeNet-5, loopback): %.0f requests/s, latency p50 %.2f ms, p99 %.2f ms, max %.2f ms; %d errors",
                                 clients, requests, Double(clients * requests) / seconds, percentile(0.5), percentile(0.99),
                                 sorted.last ?? 0, failures.reduce(0, +)))
        }
    }
}

