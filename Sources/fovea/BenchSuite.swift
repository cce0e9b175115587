import Foundation
import Fovea

#if canImport(Glibc)
import Glibc
#endif

/// `fovea bench --suite [--compare]`: the engine cases of the performance work, each run in
/// a child process (`fovea bench --case NAME`) so that its peak resident memory is its own,
/// and with `--compare` the same cases in PyTorch (`Scripts/pytorch_bench.py`) on the same
/// thread count, printed side by side with the ratio and the goal.
extension FoveaCommand.Bench {
    /// Case name, what it measures, and the goal of the issue as (ratio bound, higher is better).
    static let suiteCases: [(name: String, title: String, goal: String)] = [
        ("lenet5-train", "LeNet-5 training, batch 64, SGD momentum", ">= 3x PyTorch's images/s"),
        ("plain-lenet-train", "LeNet-5 written plainly as a user would (PlainLeNet), compiled, batch 64, SGD momentum",
         "within 10% of lenet5-train's images/s"),
        ("lenet-bn-train", "LeNet_modify (BN, PReLU, dropout) training, batch 64, Adam", ">= 2x PyTorch's images/s"),
        ("resnet18-cifar-train", "CIFAR ResNet-18 training, batch 128, 3x32x32, SGD momentum", ">= 1.25x PyTorch's images/s"),
        ("lenet5-infer", "LeNet-5 single-image inference", "<= 0.1x PyTorch's latency"),
        ("resnet18-infer", "ResNet-18 single-image inference, 3x224x224", "(no goal)"),
        ("resnet50-infer", "ResNet-50 single-image inference, 3x224x224", "<= 0.8x PyTorch's latency"),
        ("vgg16-infer", "VGG-16 single-image inference, 3x224x224", "(no goal)"),
    ]

    /// One case, measured in this process: images/s (training) or median latency (inference),
    /// achieved GFLOP/s (training counts 3x the forward FLOPs), and this process's peak RSS.
    func runCase(_ name: String, threads: Int) throws -> [String: Any] {
        GlobalRandom.seed(0)
        var gen = SeededGenerator(seed: 1)
        func entry(_ model: String, _ input: [Int], _ classes: Int) throws -> (Layer, [Int]) {
            (try ModelZoo.entry(named: model).make(input: input, classes: classes), input)
        }
        var result: [String: Any] = ["case": name, "threads": threads]
        if name.hasSuffix("-train") {
            let (model, input, batch, adam): (Layer, [Int], Int, Bool) = try {
                switch name {
                case "lenet5-train": return (try LeNet5(), [1, 28, 28], 64, false)
                case "plain-lenet-train": return (try PlainLeNet(), [1, 28, 28], 64, false)
                case "lenet-bn-train": let (m, i) = try entry("lenet-bn", [1, 28, 28], 10); return (m, i, 64, true)
                case "resnet18-cifar-train": let (m, i) = try entry("resnet18-cifar", [3, 32, 32], 10); return (m, i, 128, false)
                default: throw ValidationErrorText("--case \(name): not a suite case (\(Self.suiteCases.map(\.name).joined(separator: ", ")))")
                }
            }()
            let steps = name == "resnet18-cifar-train" ? max(3, suiteSteps / 60) : suiteSteps
            let optimizer: Optimizer = adam ? try Adam(parameters: model.parameters, learningRate: 1e-3)
                : try SGD(parameters: model.parameters, learningRate: 0.01, momentum: 0.9)
            let x = Tensor.normal([batch] + input, generator: &gen)
            let y = (0..<batch).map { _ in Int(gen.next() % 10) }
            model.train()
            let compiled = model.compiled()
            func step() throws {
                optimizer.zeroGrad()
                try Tensor.crossEntropy(logits: compiled(x), targets: y).backward()
                optimizer.step()
            }
            for _ in 0..<min(10, steps) { try step() }
            let allocated = BufferPool.shared.statistics.allocated
            let start = DispatchTime.now().uptimeNanoseconds
            for _ in 0..<steps { try step() }
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            // Buffers of 4 KiB or more a warm step still had to ask the system for.
            result["allocations_per_step"] = Double(BufferPool.shared.statistics.allocated - allocated) / Double(steps)
            let ips = Double(steps * batch) / seconds
            let macs = try ModelSummary(model: model, input: input).multiplyAccumulates
            result["images_per_second"] = ips
            result["gflops"] = ips * 6 * Double(macs) / 1e9
            result["steps"] = steps
            result["batch"] = batch
        } else {
            let (model, input): (Layer, [Int]) = try {
                switch name {
                case "lenet5-infer": return (try LeNet5(), [1, 28, 28])
                case "resnet18-infer": return try entry("resnet18", [3, 224, 224], 1000)
                case "resnet50-infer": return try entry("resnet50", [3, 224, 224], 1000)
                case "vgg16-infer": return try entry("vgg16", [3, 224, 224], 1000)
                default: throw ValidationErrorText("--case \(name): not a suite case (\(Self.suiteCases.map(\.name).joined(separator: ", ")))")
                }
            }()
            model.eval()
            let x = Tensor.normal([1] + input, generator: &gen)
            let runs = name == "lenet5-infer" ? inferences : max(5, inferences / 200)
            let (best, median) = try withNoGrad { () throws -> (Double, Double) in
                let compiled = model.compiled()
                for _ in 0..<min(20, runs) { _ = try compiled(x) }
                return try time(repeats: runs) { _ = try compiled(x) }
            }
            let macs = try ModelSummary(model: model, input: input).multiplyAccumulates
            result["latency_ms"] = median * 1000
            result["best_ms"] = best * 1000
            result["gflops"] = 2 * Double(macs) / median / 1e9
            result["runs"] = runs
        }
        var usage = rusage()
        getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
        result["peak_rss_mb"] = Double(usage.ru_maxrss) / 1024
        result["tensor_peak_mb"] = Double(BufferPool.shared.liveBytes.peak) / 1048576
        result["pool_peak_mb"] = Double(BufferPool.shared.peakFootprintBytes) / 1048576
        return result
    }

    /// Runs every case in a child process, `--rounds` times. With `--compare`, each Fovea case
    /// is followed at once by the same case in PyTorch (the order flips every round), so each
    /// ratio compares two runs taken seconds apart; the table gives every round's ratio and
    /// their median.
    func runSuite(threads: Int) throws {
        Console.write("Fovea bench --suite: \(threads) threads, \(rounds) round\(rounds == 1 ? "" : "s"), GEMM micro-kernel: \(GEMM.kernelName)")
        benchGEMM(threads: threads)
        let me = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Scripts/pytorch_bench.py")
        var withTorch = compare
        if compare {
            let probe = try Self.capture(URL(fileURLWithPath: "/usr/bin/env"), ["python3", "-c", "import torch"])
            if probe.status != 0 {
                Console.write("PyTorch comparison skipped: python3 cannot import torch (pip install torch torchvision)")
                withTorch = false
            } else if try Self.capture(URL(fileURLWithPath: "/usr/bin/env"), ["python3", "-c", "import torchvision"]).status != 0 {
                Console.write("python3 cannot import torchvision: PyTorch's ImageNet inference cases will fail (pip install torchvision)")
            }
        }
        // rows[case][round] = (Fovea's row, PyTorch's row)
        var rows: [String: [(fovea: [String: Any]?, torch: [String: Any]?)]] = [:]
        // baselineRows[case][round] = (this build's row, the --baseline build's row)
        var baselineRows: [String: [(fovea: [String: Any]?, torch: [String: Any]?)]] = [:]
        for round in 1...rounds {
            Console.write("")
            Console.write("Round \(round) of \(rounds):")
            for c in Self.suiteCases {
                // One child process's JSON row, printed under `label`; nil (and why) if it failed.
                func run(_ label: String, _ executable: URL, _ arguments: [String]) throws -> [String: Any]? {
                    let out = try Self.capture(executable, arguments)
                    guard out.status == 0, let row = Self.parse(out.stdout.split(separator: "\n").last.map(String.init) ?? "") else {
                        Console.write("\(label) \(c.name): failed: \(out.stderr.suffix(300))")
                        return nil
                    }
                    Console.write("\(label) \(Self.describe(c.title, row))")
                    return row
                }
                func runFovea() throws -> [String: Any]? {
                    try run("Fovea  ", me, ["bench", "--case", c.name, "--threads", "\(threads)", "--suite-steps", "\(suiteSteps)",
                                           "--inferences", "\(inferences)"])
                }
                func runBaseline() throws -> [String: Any]? {
                    guard let baseline else { return nil }
                    return try run("Before ", URL(fileURLWithPath: baseline), ["bench", "--case", c.name, "--threads", "\(threads)",
                                                                               "--suite-steps", "\(suiteSteps)", "--inferences", "\(inferences)"])
                }
                func runTorch() throws -> [String: Any]? {
                    try run("PyTorch", URL(fileURLWithPath: "/usr/bin/env"), ["python3", script.path, "--case", c.name, "--threads", "\(threads)",
                                                                              "--steps", "\(suiteSteps)", "--inferences", "\(inferences)"])
                }
                var pair: (fovea: [String: Any]?, torch: [String: Any]?) = (nil, nil)
                var before: [String: Any]?
                if round % 2 == 1 {
                    pair.fovea = try runFovea()
                    before = try runBaseline()
                    if withTorch { pair.torch = try runTorch() }
                } else {
                    if withTorch { pair.torch = try runTorch() }
                    before = try runBaseline()
                    pair.fovea = try runFovea()
                }
                rows[c.name, default: []].append(pair)
                baselineRows[c.name, default: []].append((pair.fovea, before))
            }
        }
        // A user's plainly written LeNet against the zoo's, round by round (same build).
        let plain = zip(rows["plain-lenet-train"] ?? [], rows["lenet5-train"] ?? []).map { ($0.fovea, $1.fovea) }
        Console.write("")
        Console.write(Self.ratioLine("plain-lenet-train", plain, against: "lenet5-train's (goal: within 10%)"))
        if baseline != nil {
            Console.write("")
            Console.write("This build against --baseline, \(threads) threads; each ratio compares two runs of one round (images/s: this / before, higher is better; latency: this / before, lower is better), then the median over rounds:")
            for c in Self.suiteCases { Console.write(Self.ratioLine(c.name, baselineRows[c.name] ?? [], against: "before")) }
        }
        guard withTorch else { return }
        let version = rows.values.lazy.flatMap { $0 }.compactMap { $0.torch?["torch"] as? String }.first
        Console.write("")
        Console.write("Side by side, \(threads) threads, \(version.map { "torch " + $0 } ?? "torch"); each ratio compares two runs of one round, then the median over rounds:")
        for c in Self.suiteCases {
            let pairs = rows[c.name] ?? []
            let memory = pairs.compactMap { pair -> Double? in
                guard let fm = pair.fovea?["peak_rss_mb"] as? Double, let tm = pair.torch?["peak_rss_mb"] as? Double, tm > 0 else { return nil }
                return fm / tm
            }
            let rss = memory.isEmpty ? "" : String(format: "; peak RSS median %.2fx PyTorch's", Self.median(memory))
            let goal = c.goal.hasPrefix("(") ? c.goal : "goal " + c.goal
            Console.write(Self.ratioLine(c.name, pairs, against: "PyTorch's") + " (\(goal))\(rss)")
        }
    }

    /// One case's ratios over rounds, Fovea's row against the other run's in each pair
    /// (`against` names the other run): "name (unit): a / b = r; ...: median r against".
    static func ratioLine(_ name: String, _ pairs: [(fovea: [String: Any]?, torch: [String: Any]?)],
                          against: String) -> String {
        var ratios: [Double] = [], figures: [String] = []
        for pair in pairs {
            guard let f = pair.fovea, let t = pair.torch else { figures.append("missing"); continue }
            if let fi = f["images_per_second"] as? Double, let ti = t["images_per_second"] as? Double {
                ratios.append(fi / ti)
                figures.append(String(format: "%.0f / %.0f = %.3fx", fi, ti, fi / ti))
            } else if let fl = f["latency_ms"] as? Double, let tl = t["latency_ms"] as? Double {
                ratios.append(fl / tl)
                figures.append(String(format: "%.3f / %.3f ms = %.3fx", fl, tl, fl / tl))
            }
        }
        let unit = name.hasSuffix("-train") ? "images/s" : "latency"
        let median = ratios.isEmpty ? "no ratio" : String(format: "median %.3fx %@", Self.median(ratios), against)
        return "\(name) (\(unit)): \(figures.joined(separator: "; ")): \(median)"
    }

    static func median(_ values: [Double]) -> Double {
        let s = values.sorted()
        return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
    }

    static func describe(_ title: String, _ row: [String: Any]) -> String {
        let rss = String(format: "peak RSS %.0f MB", row["peak_rss_mb"] as? Double ?? 0)
        // PyTorch's rows carry no FLOP count.
        let gflops = (row["gflops"] as? Double).map { String(format: ", %.1f GFLOP/s", $0) } ?? ""
        if let ips = row["images_per_second"] as? Double {
            return String(format: "%@: %.0f images/s%@; %@", title, ips, gflops, rss)
        }
        let best = (row["best_ms"] as? Double).map { String(format: ", %.3f ms best", $0) } ?? ""
        return String(format: "%@: %.3f ms median%@%@; %@", title, row["latency_ms"] as? Double ?? 0, best, gflops, rss)
    }

    static func json(_ object: [String: Any]) throws -> String {
        String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self)
    }

    static func parse(_ line: String) -> [String: Any]? {
        (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any]
    }

    /// Runs `executable arguments` and returns its exit status and output.
    static func capture(_ executable: URL, _ arguments: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let group = DispatchGroup()
        nonisolated(unsafe) var errData = Data()
        DispatchQueue.global().async(group: group) { errData = err.fileHandleForReading.readDataToEndOfFile() }
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        group.wait()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: outData, as: UTF8.self), String(decoding: errData, as: UTF8.self))
    }
}

/// LeNet-5 as a user writes it from the README: plain stored layers, a forward that reads
/// like the diagram, nothing listed and no engine call. The suite's `plain-lenet-train` case
/// trains it compiled, to show that the engine's speed reaches a user's own model.
final class PlainLeNet: Layer, @unchecked Sendable {
    let conv1 = try! Conv2D(1, 6, kernelSize: 5, padding: .uniform(2), weightInit: .pytorchDefault)
    let conv2 = try! Conv2D(6, 16, kernelSize: 5, weightInit: .pytorchDefault)
    let pool = try! MaxPool2D(2)
    let fc1 = try! Dense(16 * 5 * 5, 120, weightInit: .pytorchDefault)
    let fc2 = try! Dense(120, 84, weightInit: .pytorchDefault)
    let fc3 = try! Dense(84, 10, weightInit: .pytorchDefault)

    override func forward(_ x: Tensor) throws -> Tensor {
        var x = try pool(conv1(x).relu())
        x = try pool(conv2(x).relu())
        x = try x.flattened()
        x = try fc1(x).relu()
        x = try fc2(x).relu()
        return try fc3(x)
    }
}
