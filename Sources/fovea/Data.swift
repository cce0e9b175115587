import ArgumentParser
import Foundation
import Fovea

extension FoveaCommand {
    /// `fovea data`: data-set tools.
    struct DataCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "data", abstract: "Data-set tools.", subcommands: [SynthAOI.self])

        /// `fovea data synth-aoi`: the synthetic defect-inspection set.
        struct SynthAOI: ParsableCommand {
            static let configuration = CommandConfiguration(
                commandName: "synth-aoi",
                abstract: "Write SYNTHETIC grey surface images in the AOI competition's six classes (normal, void, horizontal defect, vertical defect, edge defect, particle) as PNG class folders plus labels.csv (ID,Label).")

            @Option(help: "Folder to write into.")
            var out: String
            @Option(help: "Images per class.")
            var perClass = 200
            @Option(help: "Image side in pixels.")
            var size = 64
            @Option(help: "Random seed.")
            var seed: UInt64 = 1

            func validate() throws {
                guard perClass >= 1 else { throw ValidationError("--per-class must be at least 1, got \(perClass)") }
                guard (16...1024).contains(size) else { throw ValidationError("--size must be 16...1024, got \(size)") }
            }

            func run() throws {
                let root = URL(fileURLWithPath: out)
                let count = try SyntheticAOI.write(to: root, perClass: perClass, size: size, seed: seed)
                Console.write("Wrote \(count) synthetic \(size)x\(size) grey images (\(perClass) per class: \(SyntheticAOI.classNames.joined(separator: ", "))) to \(root.path), with labels.csv; train with `fovea train --data \(root.path)`")
            }
        }
    }
}
