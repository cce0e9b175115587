import Foundation
import TensorCore
import Datasets

extension Trainer {
    /// Trains for up to `epochs` epochs (the schedule spans them all), evaluating on
    /// `validation` and `test` after each when given, and lets `callbacks` (early stopping,
    /// reduce-on-plateau) stop or steer training. Returns one record per epoch run.
    ///
    /// `onEpoch` sees each finished record after the callbacks have (to print or save it). To resume an interrupted
    /// run, restore the model, optimizer and `GlobalRandom` from its checkpoint and pass the
    /// epochs it finished as `completed`: training goes on at epoch `completed.count + 1`
    /// and the history returned starts with `completed`.
    public func fit(_ loader: DataLoader, epochs: Int, validation: LabeledImages? = nil, test: LabeledImages? = nil,
                    callbacks: [TrainingCallback] = [], completed: [EpochRecord] = [],
                    onEpoch: ((EpochRecord) throws -> Void)? = nil) throws -> [EpochRecord] {
        guard epochs >= 1 else { throw TrainingError.invalidSetting("epochs must be at least 1, got \(epochs)") }
        guard completed.count <= epochs else {
            throw TrainingError.invalidSetting("the run already finished \(completed.count) epochs of the \(epochs) asked for")
        }
        plannedEpochs = epochs
        var history = completed
        defer { lastEpoch = history.last?.epoch ?? 0 }
        do {
            for epoch in stride(from: completed.count + 1, through: epochs, by: 1) {
                if verbose { Console.write("Epoch \(epoch)/\(epochs)") }
                var record = try trainEpoch(loader, epoch: epoch)
                if let validation {
                    let v = try evaluate(validation)
                    record.validationLoss = v.loss
                    record.validationAccuracy = v.accuracy
                }
                if let test {
                    let t = try evaluate(test)
                    record.testLoss = t.loss
                    record.testAccuracy = t.accuracy
                }
                if verbose { Console.write(Trainer.summary(of: record)) }
                // Nothing non-finite goes on to the callbacks, the history or a checkpoint
                // (JSON has no NaN).
                let figures = [("training loss", record.trainLoss), ("validation loss", record.validationLoss),
                               ("test loss", record.testLoss)]
                if let (name, value) = figures.first(where: { $0.1.map { !$0.isFinite } ?? false }) {
                    throw TrainingError.nonFinite(epoch: epoch, what: "the \(name) is \(value!.isNaN ? "NaN" : "\(value!)")")
                }
                history.append(record)
                lastEpoch = epoch
                var stop = false
                for callback in callbacks where try callback.epochEnded(record, trainer: self) { stop = true }
                // After the callbacks, so a checkpoint written here holds their decisions too.
                try onEpoch?(record)
                if stop { break }
            }
        } catch {
            lastEpoch = history.last?.epoch ?? 0
            for callback in callbacks { try? callback.trainingEnded(trainer: self) }
            throw error
        }
        for callback in callbacks { try callback.trainingEnded(trainer: self) }
        return history
    }

    /// `val_loss: 0.0412 - val_accuracy: 0.9871 - test_loss: ... ` for the figures `record` has.
    public static func summary(of record: EpochRecord) -> String {
        var parts: [String] = []
        if let l = record.validationLoss, let a = record.validationAccuracy {
            parts.append(String(format: "val_loss: %.4f - val_accuracy: %.4f", l, a))
        }
        if let l = record.testLoss, let a = record.testAccuracy {
            parts.append(String(format: "test_loss: %.4f - test_accuracy: %.4f", l, a))
        }
        parts.append(String(format: "lr: %.3g", record.learningRate))
        return parts.joined(separator: " - ")
    }
}
