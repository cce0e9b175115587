/// ShuffleNet's channel shuffle (Zhang et al. 2017, sec. 3.1; Ma et al. 2018): after a grouped
/// or split layer, channels are interleaved so the next group sees every previous group.
/// Built from reshape and permute, so its gradient is the inverse shuffle.
extension Tensor {
    /// Interleaves the channels of `groups` groups: `[N, g*c, H, W]` viewed as `[N, g, c, H, W]`,
    /// axes 1 and 2 swapped, flattened back (ShuffleNet's channel shuffle).
    public func channelShuffled(groups: Int) throws -> Tensor {
        guard rank == 4, groups >= 1, shape[1] % groups == 0 else {
            throw TensorError.shapeMismatch(op: "channelShuffle", "\(describe(shape)) cannot be shuffled in \(groups) groups")
        }
        let (n, c, h, w) = (shape[0], shape[1], shape[2], shape[3])
        let shuffled = try reshaped([n, groups, c / groups, h, w]).permuted([0, 2, 1, 3, 4]).reshaped([n, c, h, w])
        return GraphRecorder.note(.channelShuffle(groups: groups), [self], shuffled)
    }
}

