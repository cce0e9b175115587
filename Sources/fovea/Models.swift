import ArgumentParser
import Fovea

extension FoveaCommand {
    /// `fovea models`: lists the zoo.
    struct Models: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the models Fovea can build by name.")

        func run() throws {
            for e in ModelZoo.entries {
                let aliases = e.aliases.isEmpty ? "" : " (also: \(e.aliases.joined(separator: ", ")))"
                let input = e.defaultInput.map(String.init).joined(separator: "x")
                Console.write("\(e.name)\(aliases)\n    \(e.summary); input \(input), \(e.defaultClasses) classes")
            }
        }
    }
}
