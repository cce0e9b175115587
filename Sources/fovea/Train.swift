import ArgumentParser
import Foundation
import Fovea

extension FoveaCommand {
    /// `fovea train`: trains a zoo model on MNIST and writes a run directory.
    struct Train: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Train a model on MNIST (LeNet-5 by default) or on your own images (--data) and report its accuracy.")

        @Option(help: "Model name (see `fovea models`).")
        var model = "lenet5"
        @Option(help: "Passes over the training set.")
        var epochs = 1
        @Option(help: "Images per step (default: the model's recipe, 24 for LeNet-5).")
        var batchSize: Int?
        @Option(help: "Learning rate (default: the model's recipe, 0.015 for LeNet-5).")
        var lr: Float?
        @Option(help: "Learning-rate schedule over the run, stepped every batch: constant, cosine, or step:EVERY:GAMMA (default: the model's recipe, cosine).")
        var schedule: String?
        @Option(help: "SGD momentum (default: the model's recipe, 0.9).")
        var momentum: Float?
        @Option(help: "Random seed: initial weights and shuffling.")
        var seed: UInt64 = 42
        @Option(help: "Run directory (default: runs/<model>-<time>).")
        var output: String?
        @Option(help: "Train on the first N training images only (default: all 60,000), for quick trials.")
        var trainImages: Int?
        @Option(help: "Test on the first N test images only (default: all 10,000), for quick trials.")
        var testImages: Int?
        @Option(help: "Hold out this fraction of the training images (seeded) for validation, e.g. 0.1.")
        var validationSplit: Double?
        @Option(help: "Stop when the monitored validation figure has not improved for this many epochs (needs --validation-split); the best epoch's weights are kept.")
        var earlyStopping: Int?
        @Option(help: "Divide the learning rate by 10 when the monitored validation figure has not improved for this many epochs (needs --validation-split).")
        var plateau: Int?
        @Option(help: "What early stopping and --plateau watch: val_accuracy or val_loss.")
        var monitor = "val_accuracy"
        @Option(help: "Model input CxHxW (default: 1x28x28 for the LeNets, else 1xSxS with S the larger of 32 and the model's minimum); the 28x28 digits are padded or resized to it and grey is repeated over the channels.")
        var input: String?
        @Option(help: "How digits reach another input size: pad (centred) or resize (bilinear); default: pad when the input is at most a quarter larger, else resize.")
        var fit: String?
        @Option(name: .customLong("data"), help: "Train on your own images instead of MNIST: an ImageFolder (DIR/<class>/<image>.png|jpg) or a CSV of file,label rows (images relative to it); a stratified --validation-split (default 0.2) is held out and reported.")
        var dataPath: String?
        @Flag(help: "Augment the training images: random rotations up to 10 degrees, shifts up to 10% and zooms of 0.9-1.1, as one seeded affine warp per image per epoch.")
        var augment = false
        @Flag(help: "With --data: skip unreadable images and empty class folders with a warning instead of stopping.")
        var skipBadImages = false
        @Option(help: "Folder holding the MNIST files (default: the copy bundled in Data/mnist).")
        var dataDir: String?
        @Flag(help: "Skip the SHA-256 check of the data files.")
        var noVerify = false
        @Flag(help: "Print only the final figures.")
        var quiet = false
        @Flag(help: "Skip report.html and the pictures (confusion matrix, ROC, filters, feature maps, ...) at the end of the run.")
        var noReport = false
        @OptionGroup var techniques: TechniqueOptions
        @OptionGroup var compute: ComputeOptions

        func validate() throws {
            guard epochs >= 1 else { throw ValidationError("--epochs must be at least 1, got \(epochs)") }
            if let batchSize, batchSize < 1 { throw ValidationError("--batch-size must be at least 1, got \(batchSize)") }
            if let lr, !(lr > 0 && lr.isFinite) { throw ValidationError("--lr must be positive, got \(lr)") }
            if let trainImages, trainImages < 1 { throw ValidationError("--train-images must be at least 1, got \(trainImages)") }
            if let testImages, testImages < 1 { throw ValidationError("--test-images must be at least 1, got \(testImages)") }
            if dataPath != nil {
                if dataDir != nil { throw ValidationError("--data and --data-dir cannot be used together (--data-dir is MNIST's folder)") }
                if testImages != nil { throw ValidationError("--test-images is for MNIST; with --data the validation split is reported") }
            }
            if let validationSplit, !(validationSplit > 0 && validationSplit < 1) {
                throw ValidationError("--validation-split must be in (0, 1), got \(validationSplit)")
            }
            if let earlyStopping {
                guard earlyStopping >= 0 else { throw ValidationError("--early-stopping must be at least 0, got \(earlyStopping)") }
                guard validationSplit != nil else { throw ValidationError("--early-stopping \(earlyStopping) needs --validation-split") }
            }
            if let plateau {
                guard plateau >= 0 else { throw ValidationError("--plateau must be at least 0, got \(plateau)") }
                guard validationSplit != nil else { throw ValidationError("--plateau \(plateau) needs --validation-split") }
            }
            guard Monitor(rawValue: monitor).map({ $0 == .validationAccuracy || $0 == .validationLoss }) == true else {
                throw ValidationError("--monitor must be val_accuracy or val_loss, got '\(monitor)'")
            }
            if let momentum, !(momentum >= 0 && momentum < 1) { throw ValidationError("--momentum must be in [0, 1), got \(momentum)") }
            do {
                let entry = try ModelZoo.entry(named: model)
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
            compute.apply()
            GlobalRandom.seed(seed)
            let entry = try ModelZoo.entry(named: model)
            let recipe = entry.recipe
            let batchSize = self.batchSize ?? recipe.batchSize, lr = self.lr ?? recipe.learningRate
            let momentum = self.momentum ?? recipe.momentum, schedule = self.schedule ?? recipe.schedule
            let data = try dataPath.map { try TrainingData.images($0, self, entry: entry) } ?? TrainingData.mnist(self, entry: entry)
            let (train, validation, test, shape, fitMode) = (data.train, data.validation, data.test, data.shape, data.fitMode)
            let say: (String) -> Void = { if !quiet { Console.write($0) } }
            say(data.summary)

            let net = try entry.make(input: shape, classes: data.classNames.count)
            let inputText = ModelZoo.inputText(shape)
            if let fitMode, test != nil { say("Input: \(inputText), digits \(fitMode == .pad ? "padded" : "resized") from 1x28x28") }
            let (kind, optimizer) = try techniques.makeOptimizer(for: net, recipe: recipe, learningRate: lr, momentum: self.momentum)
            let extras = [techniques.summary, augment ? "augment (rotate 10°, shift 10%, zoom 0.9-1.1)" : ""].filter { !$0.isEmpty }.joined(separator: ", ")
            say("Model: \(entry.name), \(net.parameterCount) parameters; \(kind.rawValue) lr \(lr) (\(schedule))\(kind == .sgd ? ", momentum \(momentum)" : ""), batch \(batchSize), seed \(seed), \(Parallel.threadCount) threads\(extras.isEmpty ? "" : "; " + extras)")
            let trainer = Trainer(model: net, optimizer: optimizer, schedule: try LearningRateSchedule(parsing: schedule),
                                  plannedEpochs: epochs, verbose: !quiet)
            try techniques.apply(to: trainer)
            let plain = try DataLoader(train, batchSize: batchSize, shuffle: true, seed: seed, dropLast: false)
            let loader = augment ? try plain.augmented(with: .translateRotateScale) : plain
            let run = try output.map { try RunDirectory(URL(fileURLWithPath: $0)) } ?? RunDirectory.timestamped(model: entry.name)

            var callbacks: [TrainingCallback] = []
            let stopper = try earlyStopping.map { try EarlyStopping(monitor: Monitor(rawValue: monitor)!, patience: $0) }
            if let stopper { callbacks.append(stopper) }
            if let plateau { callbacks.append(try PlateauCallback(monitor: Monitor(rawValue: monitor)!, patience: plateau)) }
            var history: [EpochRecord] = []
            history = try trainer.fit(loader, epochs: epochs, validation: validation, test: test, callbacks: callbacks) { record in
                history.append(record)
                try run.writeHistory(history)
            }
            let trainSeconds = history.map(\.seconds).reduce(0, +)
            // Reported: the test split (MNIST), else the validation split (the user's images).
            // With early stopping the weights kept are the best epoch's: measure those.
            let reported = test ?? validation!
            let last = stopper != nil ? try trainer.evaluate(reported)
                : Evaluation(loss: (test != nil ? history.last?.testLoss : history.last?.validationLoss) ?? .nan,
                             accuracy: (test != nil ? history.last?.testAccuracy : history.last?.validationAccuracy) ?? 0, count: reported.count)

            let meta = data.metadata.merging(["model": entry.name, "input": inputText, "classes": "\(data.classNames.count)",
                                              "class_names": data.classNames.joined(separator: ",")]) { $1 }
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
