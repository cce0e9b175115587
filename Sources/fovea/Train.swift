import ArgumentParser
import Foundation
import Fovea

extension FoveaCommand {
    /// `fovea train`: trains a zoo model on MNIST and writes a run directory.
    struct Train: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Train a model on MNIST (LeNet-5 by default), Fashion-MNIST or your own images (--data) and report its accuracy.")

        @Option(help: "Model name (see `fovea models`; default: lenet5, or the model the --weights were saved from).")
        var model: String?
        @Option(parsing: .unconditional, help: "Passes over the training set (default 1; with --resume, the run's own count unless given).")
        var epochs: Int?
        @Option(parsing: .unconditional, help: "Images per step (default: the model's recipe, 24 for LeNet-5).")
        var batchSize: Int?
        @Option(parsing: .unconditional, help: "Learning rate (default: the model's recipe, 0.015 for LeNet-5).")
        var lr: Float?
        @Option(help: "Learning-rate schedule over the run, stepped every batch: constant, cosine, or step:EVERY:GAMMA (default: the model's recipe, cosine).")
        var schedule: String?
        @Option(parsing: .unconditional, help: "SGD momentum (default: the model's recipe, 0.9).")
        var momentum: Float?
        @Option(parsing: .unconditional, help: "Random seed: initial weights and shuffling (default: 42).", transform: OptionCheck.seed)
        var seed: UInt64 = 42
        @Option(help: "Run directory (default: runs/<model>-<time>).")
        var output: String?
        @Option(parsing: .unconditional, help: "Train on the first N training images only (default: all 60,000), for quick trials.")
        var trainImages: Int?
        @Option(parsing: .unconditional, help: "Test on the first N test images only (default: all 10,000), for quick trials.")
        var testImages: Int?
        @Option(parsing: .unconditional, help: "Hold out this fraction of the training images (seeded) for validation, e.g. 0.1.")
        var validationSplit: Double?
        @Option(parsing: .unconditional, help: "Stop when the monitored validation figure has not improved for this many epochs (needs --validation-split); the best epoch's weights are kept.")
        var earlyStopping: Int?
        @Option(parsing: .unconditional, help: "Divide the learning rate by 10 when the monitored validation figure has not improved for this many epochs (needs --validation-split).")
        var plateau: Int?
        @Option(help: "What early stopping and --plateau watch: val_accuracy or val_loss.")
        var monitor = "val_accuracy"
        @Option(help: "Model input CxHxW (default: 1x28x28 for the LeNets, else 1xSxS with S the larger of 32 and the model's minimum); the 28x28 digits are padded or resized to it and grey is repeated over the channels.")
        var input: String?
        @Option(help: "How digits reach another input size: pad (centred) or resize (bilinear); default: pad when the input is at most a quarter larger, else resize.")
        var fit: String?
        @Option(help: "The built-in data set: mnist (bundled) or fashion-mnist (from --data-dir, FOVEA_DATA_DIR, `fovea data download fashion-mnist` or Debian's dataset-fashion-mnist).")
        var dataset = "mnist"
        @Option(name: .customLong("data"), help: "Train on your own images instead of MNIST: an ImageFolder (DIR/<class>/<image>.png|jpg) or a CSV of file,label rows (images relative to it); a stratified --validation-split (default 0.2) is held out and reported.")
        var dataPath: String?
        @Flag(help: "Augment the training images: random rotations up to 10 degrees, shifts up to 10% and zooms of 0.9-1.1, as one seeded affine warp per image per epoch.")
        var augment = false
        @Flag(help: "With --data: skip unreadable images and empty class folders with a warning instead of stopping.")
        var skipBadImages = false
        @Option(help: "Weight the loss by class for imbalanced sets: balanced (N / (classes x count), scikit-learn's rule, from the training split) or one weight per class, comma-separated.")
        var classWeights: String?
        @Flag(help: "Draw each epoch's images with replacement so every class is equally likely (a balanced sampler), for imbalanced sets.")
        var balancedSampler = false
        @Option(parsing: .unconditional, help: "Batches built ahead on a background thread while the model trains (0: build each when needed).")
        var prefetch = 2
        @Option(help: "Folder holding the MNIST or Fashion-MNIST IDX files (default: the copy bundled in Data/mnist; for Fashion-MNIST the data folders, then /usr/share/datasets/fashion-mnist).")
        var dataDir: String?
        @Flag(help: "Skip the SHA-256 check of the data files.")
        var noVerify = false
        @Flag(help: "Print only the final figures.")
        var quiet = false
        @Flag(help: "Skip report.html and the pictures (confusion matrix, ROC, filters, feature maps, ...) at the end of the run.")
        var noReport = false
        @Option(help: "Continue the interrupted run in this folder from its checkpoint.safetensors (written after every epoch) with the run's saved settings; --epochs may extend it. The result equals an uninterrupted run's.")
        var resume: String?
        @OptionGroup var transfer: TransferOptions
        @OptionGroup var techniques: TechniqueOptions
        @OptionGroup var compute: ComputeOptions

        func validate() throws {
            try OptionCheck.whole("--epochs", epochs, in: 1...OptionCheck.maximumEpochs)
            try OptionCheck.whole("--batch-size", batchSize, in: 1...OptionCheck.maximumBatchSize)
            try OptionCheck.real("--lr", lr, .positive)
            try OptionCheck.whole("--train-images", trainImages, atLeast: 1)
            try OptionCheck.whole("--test-images", testImages, atLeast: 1)
            try OptionCheck.whole("--prefetch", prefetch, in: 0...64)
            try OptionCheck.path("--output", output)
            try OptionCheck.path("--resume", resume)
            try OptionCheck.path("--data", dataPath)
            try OptionCheck.path("--data-dir", dataDir)
            guard ["mnist", "fashion-mnist"].contains(dataset) else {
                throw ValidationError("--dataset must be mnist or fashion-mnist, got '\(dataset)' (for your own images use --data DIR)")
            }
            if let classWeights, classWeights != "balanced" {
                let parts = classWeights.split(separator: ",", omittingEmptySubsequences: false)
                guard parts.allSatisfy({ Float($0.trimmingCharacters(in: .whitespaces)).map { $0 >= 0 && $0.isFinite } ?? false }) else {
                    throw ValidationError("--class-weights must be 'balanced' or comma-separated non-negative numbers, got '\(classWeights)'")
                }
            }
            if dataPath != nil {
                if dataset != "mnist" { throw ValidationError("--data and --dataset \(dataset) cannot be used together") }
                if dataDir != nil { throw ValidationError("--data and --data-dir cannot be used together (--data-dir is MNIST's folder)") }
                if testImages != nil { throw ValidationError("--test-images is for MNIST; with --data the validation split is reported") }
            }
            try OptionCheck.real("--validation-split", validationSplit, .openFraction)
            try OptionCheck.whole("--early-stopping", earlyStopping, atLeast: 0)
            try OptionCheck.whole("--plateau", plateau, atLeast: 0)
            if let earlyStopping {
                guard validationSplit != nil else { throw ValidationError("--early-stopping \(earlyStopping) needs --validation-split") }
            }
            if let plateau {
                guard validationSplit != nil else { throw ValidationError("--plateau \(plateau) needs --validation-split") }
            }
            guard Monitor(rawValue: monitor).map({ $0 == .validationAccuracy || $0 == .validationLoss }) == true else {
                throw ValidationError("--monitor must be val_accuracy or val_loss, got '\(monitor)'")
            }
            try OptionCheck.real("--momentum", momentum, .fraction)
            do {
                let entry = try ModelZoo.entry(named: model ?? "lenet5")
                if let input {
                    let shape = try ModelZoo.parseInput(input)
                    guard shape[1] >= entry.minimumSize, shape[2] >= entry.minimumSize else {
                        throw ModelZooError.badInput("--input \(input): \(entry.name) needs inputs of at least \(entry.minimumSize)x\(entry.minimumSize)")
                    }
                }
            } catch { throw ValidationError("\(error)") }
            if let fit, ImageFitting.Mode(rawValue: fit) == nil {
                throw ValidationError("--fit must be pad or resize, got '\(fit)'")
            }
            if let schedule {
                do { _ = try LearningRateSchedule(parsing: schedule) } catch { throw ValidationError("--schedule: \(error)") }
            }
        }

        func run() throws {
            if let resume { return try Self.resuming(resume, epochs: epochs) }
            // What follows `train` on the command line, saved in the checkpoint for --resume.
            let arguments = Array(CommandLine.arguments.dropFirst().drop(while: { $0 != "train" && $0 != "finetune" }).dropFirst())
                .filter { $0 != "--compare-scratch" }
            try train(resumingFrom: nil, arguments: arguments)
        }

        /// `--resume DIR`: reads DIR's checkpoint, parses the run's saved arguments (with DIR as
        /// its output, and `epochs` when given) and trains on from the last finished epoch.
        static func resuming(_ folder: String, epochs: Int?) throws {
            let url = URL(fileURLWithPath: folder).appendingPathComponent(TrainingCheckpoint.fileName)
            guard FileManager.default.fileExists(atPath: url.path) else {
                throw ValidationErrorText("--resume \(folder): no \(TrainingCheckpoint.fileName) there (runs write one after every epoch)")
            }
            let checkpoint = try TrainingCheckpoint.read(from: url)
            guard let text = checkpoint.settings["arguments"],
                  let saved = (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String] else {
                throw ValidationErrorText("\(url.path): the checkpoint does not record the run's arguments")
            }
            var arguments = removingOption(["--output", "--resume"] + (epochs != nil ? ["--epochs"] : []), from: saved)
            arguments += ["--output", folder] + (epochs.map { ["--epochs", "\($0)"] } ?? [])
            let command: Train
            do { command = try Train.parse(arguments) } catch {
                throw ValidationErrorText("\(url.path): the saved arguments \(saved) no longer parse: \(Train.message(for: error))")
            }
            if let threads = checkpoint.settings["threads"], command.compute.threads == nil, threads != "\(Parallel.threadCount)" {
                Console.error("fovea: warning: the run used \(threads) threads and this machine has \(Parallel.threadCount); the result will not be bit-identical (pass --threads \(threads) when starting runs to pin it)")
            }
            try command.train(resumingFrom: checkpoint, arguments: removingOption(["--output", "--resume"], from: arguments))
        }

        /// `arguments` without every `NAME VALUE` and `NAME=VALUE` of the options `names`.
        static func removingOption(_ names: [String], from arguments: [String]) -> [String] {
            var out: [String] = [], skip = false
            for a in arguments {
                if skip { skip = false; continue }
                if names.contains(a) { skip = true; continue }
                if names.contains(where: { a.hasPrefix($0 + "=") }) { continue }
                out.append(a)
            }
            return out
        }

        static func json(_ strings: [String]) throws -> String {
            String(decoding: try JSONSerialization.data(withJSONObject: strings), as: UTF8.self)
        }

        /// Trains, from scratch or continuing `checkpoint`, and writes the run folder.
        /// `arguments` (this run's command line after `train`, without `--output`) are saved
        /// in every checkpoint.
        /// Returns the run folder and the reported (test, else validation) accuracy.
        @discardableResult
        func train(resumingFrom checkpoint: TrainingCheckpoint?, arguments: [String]) throws -> (run: URL, accuracy: Double) {
            try compute.run { try trainWithThreads(resumingFrom: checkpoint, arguments: arguments) }
        }

        /// `train(resumingFrom:arguments:)` inside the thread count of `--threads`.
        private func trainWithThreads(resumingFrom checkpoint: TrainingCheckpoint?,
                                      arguments: [String]) throws -> (run: URL, accuracy: Double) {
            let epochs = self.epochs ?? 1
            GlobalRandom.seed(seed)
            let entry = try ModelZoo.entry(named: model ?? transfer.pretrainedModelName() ?? "lenet5")
            let recipe = entry.recipe
            let batchSize = self.batchSize ?? recipe.batchSize, lr = self.lr ?? recipe.learningRate
            let momentum = self.momentum ?? recipe.momentum, schedule = self.schedule ?? recipe.schedule
            let data = try dataPath.map { try TrainingData.images($0, self, entry: entry) } ?? TrainingData.idx(self, entry: entry)
            let (train, validation, test, shape, fitMode) = (data.train, data.validation, data.test, data.shape, data.fitMode)
            let say: (String) -> Void = { if !quiet { Console.write($0) } }
            say(data.summary)

            let net = try entry.make(input: shape, classes: data.classNames.count)
            let inputText = ModelZoo.inputText(shape)
            if let fitMode, test != nil { say("Input: \(inputText), digits \(fitMode == .pad ? "padded" : "resized") from 1x28x28") }
            let transferred = try transfer.prepare(net, classNames: data.classNames)
            if let transferred { say(transferred.summary) }
            let (kind, optimizer) = try techniques.makeOptimizer(for: net, recipe: recipe, learningRate: lr, momentum: self.momentum,
                                                                 groups: transferred?.groups)
            let extras = [techniques.summary, augment ? "augment (rotate 10°, shift 10%, zoom 0.9-1.1)" : "",
                          classWeights.map { "class weights \($0)" } ?? "", balancedSampler ? "balanced sampler" : "",
                          transfer.weights.map { "fine-tuned from \($0)" + (transfer.freeze.isEmpty ? "" : " with \(transfer.freeze.joined(separator: ", ")) frozen") } ?? ""].filter { !$0.isEmpty }.joined(separator: ", ")
            say("Model: \(entry.name), \(net.parameterCount) parameters; \(kind.rawValue) lr \(lr) (\(schedule))\(kind == .sgd ? ", momentum \(momentum)" : ""), batch \(batchSize), seed \(seed), \(Parallel.threadCount) threads\(extras.isEmpty ? "" : "; " + extras)")
            let trainer = Trainer(model: net, optimizer: optimizer, schedule: try LearningRateSchedule(parsing: schedule),
                                  plannedEpochs: epochs, verbose: !quiet)
            try techniques.apply(to: trainer)
            let weights = try classWeights.map { try Self.parseClassWeights($0, training: train) }
            if let weights {
                let w = try Tensor(shape: [weights.count], values: weights), smoothing = techniques.labelSmoothing
                trainer.loss = { logits, labels in try Tensor.crossEntropy(logits: logits, targets: labels, labelSmoothing: smoothing, weight: w) }
                say("Class weights: " + zip(data.classNames, weights).map { String(format: "%@ %.3g", $0.0, $0.1) }.joined(separator: ", "))
            }
            var loader = try DataLoader(train, batchSize: batchSize, shuffle: true, seed: seed, dropLast: false)
            if augment { loader = try loader.augmented(with: .translateRotateScale) }
            if balancedSampler { loader = loader.balancedSampling() }
            if prefetch > 0 { loader = try loader.prefetching(depth: prefetch) }
            let run = try output.map { try RunDirectory(URL(fileURLWithPath: $0)) } ?? RunDirectory.timestamped(model: entry.name)
            if !run.removedStaleFiles.isEmpty {
                say("Removed \(run.removedStaleFiles.map(\.lastPathComponent).joined(separator: ", ")), left in \(run.url.path) by a run that was killed while writing")
            }

            var callbacks: [TrainingCallback] = []
            let stopper = try earlyStopping.map { try EarlyStopping(monitor: Monitor(rawValue: monitor)!, patience: $0) }
            if let stopper { callbacks.append(stopper) }
            if let plateau { callbacks.append(try PlateauCallback(monitor: Monitor(rawValue: monitor)!, patience: plateau)) }
            var history: [EpochRecord] = []
            if let checkpoint {
                try checkpoint.restore(into: trainer, callbacks: callbacks)
                history = checkpoint.history
                say("Resuming \(run.url.path) after epoch \(checkpoint.epoch) of \(epochs)")
            }
            let settings = ["arguments": try Self.json(arguments), "threads": "\(Parallel.threadCount)"]
            do {
                history = try trainer.fit(loader, epochs: epochs, validation: validation, test: test, callbacks: callbacks,
                                          completed: history) { record in
                    try TrainingCheckpoint(trainer: trainer, history: history + [record], callbacks: callbacks, settings: settings)
                        .write(to: run.url.appendingPathComponent(TrainingCheckpoint.fileName))
                    history.append(record)
                    try run.writeHistory(history)
                }
            } catch let error as TrainingError where error.isDivergence {
                throw ValidationErrorText(Self.divergenceMessage(error, learningRate: lr, run: run, goodEpochs: history.count))
            } catch {
                run.removeIfEmpty()
                throw error
            }
            let trainSeconds = history.map(\.seconds).reduce(0, +)
            // Reported: the test split (MNIST), else the validation split (the user's images).
            // With early stopping the weights kept are the best epoch's: measure those.
            let reported = test ?? validation!
            let last = stopper != nil ? try trainer.evaluate(reported)
                : Evaluation(loss: (test != nil ? history.last?.testLoss : history.last?.validationLoss) ?? .nan,
                             accuracy: (test != nil ? history.last?.testAccuracy : history.last?.validationAccuracy) ?? 0, count: reported.count)

            var meta = data.metadata.merging(["model": entry.name, "input": inputText, "classes": "\(data.classNames.count)",
                                              "class_names": data.classNames.joined(separator: ",")]) { $1 }
            if let weights = transfer.weights { meta["pretrained"] = weights }
            try Checkpoint.save(net, metadata: meta, to: run.weightsURL)
            let imagesPerSecond = Double(train.count * history.count) / max(trainSeconds, 1e-9)
            try run.writeMetrics([
                "model": entry.name, "dataset": data.metadata["dataset"] ?? "mnist", "data": data.name, "input": inputText, "classes": data.classNames, "epochs": history.count, "epochs_planned": epochs, "batch_size": batchSize,
                "optimizer": kind.rawValue, "learning_rate": Double("\(lr)") ?? Double(lr), "schedule": schedule, "techniques": extras, "momentum": Double("\(momentum)") ?? Double(momentum), "seed": seed, "threads": Parallel.threadCount,
                "test_accuracy": test != nil ? last.accuracy : NSNull(), "test_loss": test != nil ? last.loss : NSNull(),
                "train_accuracy": history.last?.trainAccuracy ?? 0, "train_loss": history.last?.trainLoss ?? 0,
                "train_seconds": trainSeconds, "train_images_per_second": imagesPerSecond,
                "parameters": net.parameterCount, "weights": run.weightsURL.lastPathComponent,
                "validation_loss": history.last?.validationLoss ?? NSNull(), "validation_accuracy": history.last?.validationAccuracy ?? NSNull(),
                "early_stopping_epoch": stopper?.stoppedEpoch ?? NSNull(), "best_epoch": stopper?.bestEpoch ?? NSNull(),
                "history": history.map(\.jsonObject),
            ])
            if !noReport {
                var artifacts = RunArtifacts(title: "\(entry.name) on \(data.name)\(test == nil ? " (validation split)" : "")", model: net, input: shape,
                                             predictions: try Predictions(model: net, data: reported), images: reported.images)
                artifacts.history = history
                artifacts.settings = [("Model", "\(entry.name), \(net.parameterCount) parameters, input \(inputText)"),
                                      ("Data", "\(data.name), \(train.count) training\(validation.map { ", \($0.count) validation" } ?? "")\(test.map { " and \($0.count) test" } ?? "") images, \(data.classNames.count) classes"),
                                      ("Optimizer", "\(kind.rawValue), lr \(lr) (\(schedule))\(kind == .sgd ? ", momentum \(momentum)" : "")"),
                                      ("Batch size", "\(batchSize)"), ("Epochs", "\(history.count) of \(epochs)"), ("Seed", "\(seed)"),
                                      ("Threads", "\(Parallel.threadCount)"), ("Techniques", extras.isEmpty ? "none" : extras),
                                      ("Training time", String(format: "%.1f s (%.0f images/s)", trainSeconds, imagesPerSecond))]
                try artifacts.write(to: run.url)
            }
            Console.write(String(format: "%@ accuracy: %.2f%% (%d images), %@ loss %.4f; trained %d epoch%@ in %.1fs (%.0f images/s). Run saved to %@%@",
                                 test != nil ? "Test" : "Validation", last.accuracy * 100, last.count, test != nil ? "test" : "validation", last.loss, history.count, history.count == 1 ? "" : "s",
                                 trainSeconds, imagesPerSecond, run.url.path, noReport ? "" : " (open report.html for the pictures)"))
            return (run.url, last.accuracy)
        }

        /// What `fovea train` says when training diverged: where, the loss, what to change, and
        /// what the run folder keeps (nothing non-finite is ever written).
        static func divergenceMessage(_ error: TrainingError, learningRate: Float, run: RunDirectory, goodEpochs: Int) -> String {
            var text = "\(error) (--lr is \(learningRate): try a smaller --lr, or --clip-norm 1)"
            if goodEpochs > 0 {
                text += "; \(run.url.path) keeps the checkpoint.safetensors and history.csv of epoch \(goodEpochs), the last good one"
            } else {
                run.removeIfEmpty()
                text += "; no epoch finished, so nothing was saved"
            }
            return text
        }

        /// `--class-weights`: "balanced" from the training split's counts, or one weight per class.
        static func parseClassWeights(_ text: String, training: LabeledImages) throws -> [Float] {
            if text == "balanced" { return training.balancedClassWeights }
            let weights = text.split(separator: ",", omittingEmptySubsequences: false).compactMap { Float($0.trimmingCharacters(in: .whitespaces)) }
            guard weights.count == training.classNames.count else {
                throw ValidationErrorText("--class-weights gives \(weights.count) weights for \(training.classNames.count) classes (\(training.classNames.joined(separator: ", ")))")
            }
            return weights
        }

        /// The input a zoo model gets on MNIST unless `--input` says otherwise: the LeNets' own
        /// 1x28x28, else one channel at the larger of 32 and the model's minimum size.
        static func defaultInput(for entry: ModelZoo.Entry) -> [Int] {
            if entry.defaultInput == [1, 28, 28] { return entry.defaultInput }
            let side = max(32, entry.minimumSize)
            return [1, side, side]
        }
    }
}
