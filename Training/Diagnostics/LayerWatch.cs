using System.Globalization;
using System.Text;
using Experiments.Domain.Models;
using Experiments.Domain.Runs;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Experiments.Training.Diagnostics;

/// <summary>
/// Looks inside the training loop: on the steps <c>watch</c> chooses it records a <see cref="LayerSnapshot"/> (each parameter
/// tensor's norms, update ratio and histograms; each layer's output statistics), and with <c>detectAnomaly</c> it checks every
/// batch's layer outputs, loss and gradients and fails at the first NaN or infinity, naming the layer where it appeared.
/// Layer outputs are seen through forward hooks (which TorchSharp's <c>Sequential</c> calls for each child), registered only
/// for the batches that need them. Everything is computed on the device and read back once per batch that needs it.
/// </summary>
public sealed class LayerWatch : IDisposable
{
    private readonly WatchSpec? _watch;
    private readonly bool _detectAnomaly;
    private readonly IReadOnlyList<(string Name, Parameter Parameter)> _parameters;
    private readonly IReadOnlyList<WatchedLayer> _layers;
    private readonly List<Action> _hooks = [];

    // The state of the batch in progress.
    private bool _recording;
    private bool _checking;
    private long _step;
    private readonly List<(WatchedLayer Layer, Tensor Statistics)> _outputs = [];
    private readonly List<(WatchedLayer Layer, Tensor Code)> _outputCodes = [];
    private readonly List<ParameterRecord> _records = [];

    public LayerWatch(nn.Module<Tensor, Tensor> model, IReadOnlyList<LayerSpec> layers, WatchSpec? watch, bool detectAnomaly)
    {
        _watch = watch;
        _detectAnomaly = detectAnomaly;
        _parameters = [.. model.named_parameters().Select(named => (SpecPath(named.name), named.parameter))];
        var modules = model.named_modules().ToDictionary(named => named.name, named => named.module, StringComparer.Ordinal);
        var watched = new List<WatchedLayer>();
        Collect(layers, "layers", "", modules, watched);
        _layers = watched;
    }

    /// <summary>
    /// Starts batch <paramref name="step"/> of the run (counted from 1): arms the hooks when the step is watched or anomalies
    /// are detected.
    /// </summary>
    public void BeginBatch(long step)
    {
        _step = step;
        _recording = _watch is { Every: { } every } && step % every == 0;
        _checking = _detectAnomaly;
        if (_recording || _checking)
        {
            foreach (var layer in _layers)
            {
                var hook = layer.Module.register_forward_hook((_, _, output) => Observe(layer, output));
                _hooks.Add(hook.remove);
            }
        }
    }

    /// <summary>
    /// Between backward (and clipping) and the optimizer's step: with <c>detectAnomaly</c>, fails at the first non-finite layer
    /// output, loss or gradient; on a watched step, takes the weights' and gradients' statistics and a copy of the weights.
    /// </summary>
    public void BeforeStep(Tensor loss, int epoch, int batch, double learningRate)
    {
        if (!_recording && !_checking)
        {
            // The common case, every batch of a run without watch or detectAnomaly: nothing to disarm, no native call.
            return;
        }
        Disarm();
        using var _ = no_grad();
        if (_checking)
        {
            CheckFinite(loss, epoch, batch, learningRate);
        }
        if (!_recording)
        {
            return;
        }
        var bins = _watch!.Bins!.Value;
        foreach (var (name, parameter) in _parameters)
        {
            var weights = parameter.detach();
            var gradient = parameter.grad?.detach();
            _records.Add(new ParameterRecord(name, weights.norm(), gradient?.norm(), weights.clone(), Histogram(weights, bins), gradient is null ? null : Histogram(gradient, bins)));
        }
    }

    /// <summary>After the optimizer's step: the snapshot of a watched step, read back from the device at once; null on other steps.</summary>
    public LayerSnapshot? AfterStep(int epoch, int batch)
    {
        if (!_recording)
        {
            return null;
        }
        using var _ = no_grad();
        var parts = new List<Tensor>();
        for (var index = 0; index < _records.Count; index++)
        {
            var record = _records[index];
            using var update = _parameters[index].Parameter.detach() - record.Before;
            var ratio = update.norm() / record.WeightNorm;
            parts.Add(stack([record.WeightNorm, record.GradientNorm ?? record.WeightNorm, ratio]).to(ScalarType.Float64));
            parts.Add(record.Weights);
            if (record.Gradients is not null)
            {
                parts.Add(record.Gradients);
            }
        }
        parts.AddRange(_outputs.Select(output => output.Statistics));
        using var packed = cat(parts, 0).cpu();
        var values = packed.data<double>().ToArray();
        var bins = _watch!.Bins!.Value;
        var at = 0;
        var parameters = new List<ParameterStatistics>(_records.Count);
        foreach (var record in _records)
        {
            var (weightNorm, gradientNorm, ratio) = (values[at], values[at + 1], values[at + 2]);
            at += 3;
            var weights = ReadHistogram(values, ref at, bins);
            var gradients = record.Gradients is null ? null : ReadHistogram(values, ref at, bins);
            parameters.Add(new ParameterStatistics(record.Name, Finite(weightNorm), record.GradientNorm is null ? null : Finite(gradientNorm), Finite(ratio), weights, gradients));
        }
        var activations = new List<ActivationStatistics>(_outputs.Count);
        foreach (var (layer, _) in _outputs)
        {
            activations.Add(new ActivationStatistics(layer.Path, layer.Type, Finite(values[at]), Finite(values[at + 1]), Finite(values[at + 2]), Finite(values[at + 3])));
            at += 4;
        }
        Clear();
        return new LayerSnapshot(_step, epoch, batch, parameters, activations);
    }

    public void Dispose()
    {
        Disarm();
        Clear();
    }

    private Tensor Observe(WatchedLayer layer, Tensor output)
    {
        using var _ = no_grad();
        var value = output.detach();
        if (_checking)
        {
            _outputCodes.Add((layer, NonFiniteCode(value)));
        }
        if (_recording && value.is_floating_point())
        {
            _outputs.Add((layer, OutputStatistics(layer.Type, value)));
        }
        return output;
    }

    /// <summary>Reads the codes of the batch's outputs, loss and gradients in one go and fails at the first that is not finite.</summary>
    private void CheckFinite(Tensor loss, int epoch, int batch, double learningRate)
    {
        var gradients = _parameters.Where(named => named.Parameter.grad is not null).ToList();
        var codes = new List<Tensor>(_outputCodes.Count + 1 + gradients.Count);
        codes.AddRange(_outputCodes.Select(output => output.Code));
        codes.Add(NonFiniteCode(loss.detach()));
        codes.AddRange(gradients.Select(named => NonFiniteCode(named.Parameter.grad!.detach())));
        using var packed = stack(codes).cpu();
        var read = packed.data<double>().ToArray();
        var where = string.Create(CultureInfo.InvariantCulture, $"at epoch {epoch}, batch {batch} (lr {learningRate})");
        // In the order the values were computed: layer outputs forward, the loss, then gradients from the output back.
        for (var index = 0; index < _outputCodes.Count; index++)
        {
            if (read[index] != 0)
            {
                var layer = _outputCodes[index].Layer;
                throw new TrainingFailedException($"activation of {layer.Path} ({layer.Type}) became {Describe(read[index])} {where}");
            }
        }
        if (read[_outputCodes.Count] != 0)
        {
            throw new TrainingFailedException($"loss became {Describe(read[_outputCodes.Count])} {where}");
        }
        for (var index = gradients.Count - 1; index >= 0; index--)
        {
            if (read[_outputCodes.Count + 1 + index] is var code && code != 0)
            {
                throw new TrainingFailedException($"gradient of {gradients[index].Name} became {Describe(code)} {where}");
            }
        }
        _outputCodes.Clear();
    }

    /// <summary>0 when every element is finite, odd when one is NaN, 2 when one is infinite and none NaN.</summary>
    private static Tensor NonFiniteCode(Tensor value) =>
        isnan(value).any().to(ScalarType.Float64) + isinf(value).any().to(ScalarType.Float64) * 2;

    private static string Describe(double code) => ((int)code & 1) == 1 ? "NaN" : "infinite";

    /// <summary>Mean, standard deviation, dead fraction and saturated fraction (NaN where they do not apply), as float64.</summary>
    private static Tensor OutputStatistics(string type, Tensor value)
    {
        var notApplicable = full([], double.NaN, value.dtype, value.device);
        var std = value.numel() > 1 ? value.std() : notApplicable;
        var dead = type switch
        {
            // A unit is dead when it outputs 0 (or stays on the flat side) for every sample of the batch: it passes no gradient.
            "relu" => value.eq(0).all(0).to(value.dtype).mean(),
            "leakyRelu" or "elu" or "gelu" => value.le(0).all(0).to(value.dtype).mean(),
            _ => notApplicable,
        };
        var saturated = type switch
        {
            "sigmoid" => value.lt(0.01).logical_or(value.gt(0.99)).to(value.dtype).mean(),
            "tanh" => value.abs().gt(0.99).to(value.dtype).mean(),
            _ => notApplicable,
        };
        return stack([value.mean(), std, dead, saturated]).to(ScalarType.Float64);
    }

    /// <summary>
    /// Min, max and the counts of <paramref name="bins"/> equal-width bins between them, as float64 (exact for counts below 2⁵³).
    /// Non-finite values count as 0, so that a diverging run still gets its histogram (its norms show the divergence).
    /// </summary>
    private static Tensor Histogram(Tensor value, int bins)
    {
        var values = value.nan_to_num(0, 0, 0).flatten();
        var (low, high) = values.aminmax();
        var width = (high - low).clamp_min(1e-30);
        var index = values.sub(low).div_(width).mul_(bins).floor_().clamp_(0, bins - 1).to(ScalarType.Int64);
        var counts = index.bincount(null, bins);
        return cat([low.to(ScalarType.Float64).unsqueeze(0), high.to(ScalarType.Float64).unsqueeze(0), counts.to(ScalarType.Float64)], 0);
    }

    private static Histogram ReadHistogram(double[] values, ref int at, int bins)
    {
        var histogram = new Histogram(values[at], values[at + 1], [.. values.Skip(at + 2).Take(bins).Select(count => (long)count)]);
        at += bins + 2;
        return histogram;
    }

    private static double? Finite(double value) => double.IsFinite(value) ? value : null;

    private void Disarm()
    {
        foreach (var remove in _hooks)
        {
            remove();
        }
        _hooks.Clear();
    }

    /// <summary>The batch's tensors belong to its dispose scope; only the references are dropped here.</summary>
    private void Clear()
    {
        _outputs.Clear();
        _outputCodes.Clear();
        _records.Clear();
    }

    /// <summary>TorchSharp's "2.layers.0.weight" as the spec's path: "layers[2].layers[0].weight".</summary>
    public static string SpecPath(string torchName)
    {
        var path = new StringBuilder();
        foreach (var segment in torchName.Split('.'))
        {
            if (int.TryParse(segment, NumberStyles.None, CultureInfo.InvariantCulture, out var index))
            {
                path.Append(path.Length == 0 ? "layers" : "").Append(CultureInfo.InvariantCulture, $"[{index}]");
            }
            else
            {
                path.Append(path.Length == 0 ? "" : ".").Append(segment);
            }
        }
        return path.ToString();
    }

    /// <summary>The module of every layer of the spec, in order, residual blocks' layers after the block itself.</summary>
    private static void Collect(IReadOnlyList<LayerSpec> layers, string path, string prefix, Dictionary<string, nn.Module> modules, List<WatchedLayer> into)
    {
        for (var index = 0; index < layers.Count; index++)
        {
            var name = prefix + index.ToString(CultureInfo.InvariantCulture);
            var layerPath = string.Create(CultureInfo.InvariantCulture, $"{path}[{index}]");
            into.Add(new WatchedLayer(layerPath, layers[index].Type, (nn.Module<Tensor, Tensor>)modules[name]));
            if (layers[index].Type == "residual")
            {
                Collect(ModelValidator.SubLayers(layers[index]), $"{layerPath}.layers", $"{name}.layers.", modules, into);
            }
        }
    }

    private sealed record WatchedLayer(string Path, string Type, nn.Module<Tensor, Tensor> Module);

    private sealed record ParameterRecord(string Name, Tensor WeightNorm, Tensor? GradientNorm, Tensor Before, Tensor Weights, Tensor? Gradients);
}
