import ArgumentParser
import Foundation
import Fovea

extension FoveaCommand {
    /// `fovea finetune`: `fovea train` from pretrained weights, with frozen layers, a new
    /// head and its own learning rate; `--compare-scratch` also trains the same network from
    /// random weights on the same data and prints both accuracies.
    struct Finetune: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Fine-tune pretrained weights on new data (--data DIR, or --dataset with --train-images): freeze layers by prefix, give the new head its own learning rate, and optionally compare with training from scratch.",
            discussion: "Takes every option of `fovea train`. Example: fovea finetune --weights runs/mnist/model.safetensors --freeze conv1 --freeze conv2 --dataset fashion-mnist --train-images 1000 --epochs 10 --compare-scratch")

        @OptionGroup var train: Train
        @Flag(help: "Also train the same network from scratch with the same data and settings (into <run>-scratch) and print both accuracies.")
        var compareScratch = false

        func validate() throws {
            guard train.transfer.weights != nil else { throw ValidationError("fovea finetune needs --weights FILE (the pretrained model)") }
            guard train.resume == nil else { throw ValidationError("resume a fine-tuning run with `fovea train --resume DIR`") }
        }

        func run() throws {
            let arguments = Array(CommandLine.arguments.dropFirst().drop(while: { $0 != "finetune" }).dropFirst())
                .filter { $0 != "--compare-scratch" }
            let tuned = try train.train(resumingFrom: nil, arguments: arguments)
            guard compareScratch else { return }
            var scratch = train
            scratch.transfer = try TransferOptions.parse([])
            scratch.model = try train.model ?? train.transfer.pretrainedModelName()
            scratch.output = tuned.run.path + "-scratch"
            let baseline = try scratch.train(resumingFrom: nil, arguments: Train.removingOption(["--weights", "--freeze", "--head", "--head-lr"], from: arguments))
            Console.write(String(format: "Fine-tuned: %.2f%%; from scratch: %.2f%% (same data, epochs and seed); difference %+.2f points",
                                 tuned.accuracy * 100, baseline.accuracy * 100, (tuned.accuracy - baseline.accuracy) * 100))
        }
    }
}
