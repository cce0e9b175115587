import ArgumentParser
import Fovea

extension FoveaCommand {
    /// `fovea models`: lists the zoo.
    struct Models: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the models Fovea can build by name.")

        func run() throws {
            for e in ModelZoo.entries {
                let aliases = e.aliases.isEmpty ? "" : " (also: \(e.aliases.joined(separator: ", ")))"
                Console.write("\(e.name)\(aliases)\n    \(e.summary); input \(ModelZoo.inputText(e.defaultInput)), \(e.defaultClasses) classes")
            }
        }
    }
}
