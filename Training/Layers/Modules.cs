using Experiments.Domain.Models;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Experiments.Training.Layers;

/// <summary>Gives each sample a new shape; the batch dimension is kept.</summary>
internal sealed class Reshape(int[] shape) : nn.Module<Tensor, Tensor>(nameof(Reshape))
{
    private readonly long[] _shape = [.. shape.Select(dimension => (long)dimension)];

    public override Tensor forward(Tensor input) => input.reshape([input.shape[0], .. _shape]);
}

/// <summary>y = x + layers(x). Its sub-stack is registered as the child "layers".</summary>
internal sealed class Residual : nn.Module<Tensor, Tensor>
{
    private readonly Sequential layers;

    public Residual(Sequential body) : base(nameof(Residual))
    {
        layers = body;
        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        using var branch = layers.forward(input);
        return input + branch;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            layers.Dispose();
        }
        base.Dispose(disposing);
    }
}

/// <summary>An embedding fed by the dataset's float features: they are token indices, so they are cast to int64 first.</summary>
internal sealed class IndexEmbedding : nn.Module<Tensor, Tensor>
{
    private readonly Embedding embedding;

    public IndexEmbedding(Embedding table) : base(nameof(IndexEmbedding))
    {
        embedding = table;
        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        using var indices = input.to(ScalarType.Int64);
        return embedding.forward(indices);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            embedding.Dispose();
        }
        base.Dispose(disposing);
    }
}

/// <summary>A batch-first LSTM or GRU that answers its output at the last step, or at every step.</summary>
internal sealed class Recurrent : nn.Module<Tensor, Tensor>
{
    private readonly LSTM? lstm;
    private readonly GRU? gru;
    private readonly bool _lastStep;

    public Recurrent(LayerSpec layer, long inputSize) : base(nameof(Recurrent))
    {
        var (hidden, stacked, bias, dropout, bidirectional) =
            (layer.Int("hiddenSize"), layer.Int("numLayers"), layer.Bool("bias"), layer.Double("dropout"), layer.Bool("bidirectional"));
        if (layer.Type == "lstm")
        {
            lstm = nn.LSTM(inputSize, hidden, stacked, bias, batchFirst: true, dropout, bidirectional);
        }
        else
        {
            gru = nn.GRU(inputSize, hidden, stacked, bias, batchFirst: true, dropout, bidirectional);
        }
        _lastStep = layer.String("output") == "last";
        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        Tensor output;
        if (lstm is not null)
        {
            var (sequence, hidden, cell) = lstm.forward(input);
            hidden.Dispose();
            cell.Dispose();
            output = sequence;
        }
        else
        {
            var (sequence, hidden) = gru!.forward(input);
            hidden.Dispose();
            output = sequence;
        }
        if (!_lastStep)
        {
            return output;
        }
        using (output)
        {
            return output.select(1, -1);
        }
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            lstm?.Dispose();
            gru?.Dispose();
        }
        base.Dispose(disposing);
    }
}
