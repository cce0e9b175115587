import TensorCore
import NN

/// The models Fovea can build by name, for the CLI and for checkpoints that record a name.
public enum ModelZoo {
    /// One buildable model: its canonical name, aliases, and a builder taking
    /// `(inputChannels, inputSize, classes)`.
    public struct Entry: Sendable {
        public let name: String
        public let aliases: [String]
        public let summary: String
        /// How `fovea train` trains it unless told otherwise.
        public let recipe: TrainingRecipe
        public let build: @Sendable (_ inputChannels: Int, _ inputSize: Size2D, _ classes: Int) throws -> Layer

        public init(name: String, aliases: [String] = [], summary: String, recipe: TrainingRecipe,
                    build: @escaping @Sendable (_ inputChannels: Int, _ inputSize: Size2D, _ classes: Int) throws -> Layer) {
            self.name = name
            self.aliases = aliases
            self.summary = summary
            self.recipe = recipe
            self.build = build
        }
    }

    /// Every model, in display order.
    public static let entries: [Entry] = [
        Entry(name: "lenet5", aliases: ["lenet", "lenet-5"],
              summary: "LeNet-5 (LeCun et al. 1998): conv 6@5x5 pad 2, pool, conv 16@5x5, pool, dense 120-84-classes; ReLU, max pooling",
              recipe: .lenet5) {
            try LeNet5(inputChannels: $0, inputSize: $1, classes: $2)
        },
        Entry(name: "lenet5-classic", aliases: ["lenet5-tanh"],
              summary: "LeNet-5 with tanh and average pooling, closer to the 1998 paper",
              recipe: .lenet5) {
            try LeNet5(inputChannels: $0, inputSize: $1, classes: $2, activation: .tanh, subsampling: .average)
        },
        Entry(name: "lenet-bn", aliases: ["lenet_modify", "lenet-modify", "lenetbn"],
              summary: "The course's LeNet_modify: conv 20@5x5, BN, PReLU, pool, conv 50@5x5, BN, PReLU, pool, dense 500, BN, PReLU, dropout 0.5, dense classes; Kaiming init, Adam",
              recipe: .lenetBN) {
            try LeNetBN(inputChannels: $0, inputSize: $1, classes: $2)
        },
    ]

    /// Canonical names, for messages and listings.
    public static var names: [String] { entries.map(\.name) }

    /// Finds a model by name or alias (case-insensitive).
    public static func entry(named name: String) throws -> Entry {
        let key = name.lowercased()
        guard let e = entries.first(where: { $0.name == key || $0.aliases.contains(key) }) else {
            throw ModelZooError.unknownModel(name, known: names)
        }
        return e
    }

    /// Builds a model by name for the given input and class count.
    public static func make(_ name: String, inputChannels: Int = 1, inputSize: Size2D = 28, classes: Int = 10) throws -> Layer {
        try entry(named: name).build(inputChannels, inputSize, classes)
    }
}

/// Errors from the model zoo.
public enum ModelZooError: Error, CustomStringConvertible, Equatable {
    case unknownModel(String, known: [String])
    public var description: String {
        switch self {
        case .unknownModel(let n, let known): return "unknown model '\(n)'; known models: \(known.joined(separator: ", "))"
        }
    }
}
