using static TorchSharp.torch;

namespace Experiments.Training.Data;

/// <summary>
/// Hands out a split's mini-batches: each epoch a permutation drawn from a seeded generator (or the split's
/// order), each batch gathered from the split's tensors with one <c>index_select</c> per tensor and prepared as the model
/// sees it (<see cref="TensorSplit.Gather"/>). No per-sample objects: a batch costs two gathers and its preprocessing on
/// the device, whatever the dataset.
/// </summary>
public sealed class BatchLoader : IDisposable
{
    private readonly TensorSplit _split;
    private readonly bool _shuffle;
    private Tensor? _order;

    public BatchLoader(TensorSplit split, int batchSize, bool shuffle, long seed)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        _split = split;
        _shuffle = shuffle;
        BatchSize = batchSize;
        ShuffleGenerator = new Generator((ulong)seed);
    }

    public int BatchSize { get; }

    /// <summary>The generator of the epochs' permutations: a checkpoint saves and restores its state.</summary>
    public Generator ShuffleGenerator { get; }

    public long BatchCount => (_split.Count + BatchSize - 1) / BatchSize;

    /// <summary>Draws the next epoch's order. The loader owns it: a dispose scope around the call does not take it.</summary>
    public void StartEpoch()
    {
        _order?.Dispose();
        var device = _split.Features.device;
        using var order = _shuffle ? randperm(_split.Count, generator: ShuffleGenerator) : arange(_split.Count);
        _order = order.to(device).DetachFromDisposeScope();
    }

    /// <summary>The <paramref name="index"/>-th batch of this epoch, created in the caller's dispose scope.</summary>
    public (Tensor Inputs, Tensor Targets) Batch(long index)
    {
        var order = _order ?? throw new InvalidOperationException("Call StartEpoch before asking for batches.");
        var start = index * BatchSize;
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(start, _split.Count, nameof(index));
        using var indices = order.narrow(0, start, Math.Min(BatchSize, _split.Count - start));
        return _split.Gather(indices);
    }

    public void Dispose()
    {
        _order?.Dispose();
        ShuffleGenerator.Dispose();
    }
}
