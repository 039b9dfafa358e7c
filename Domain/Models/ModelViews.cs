namespace Experiments.Domain.Models;

/// <summary>Body of <c>POST /api/models</c>: a name and a layer stack; inputShape optionally checks shapes now.</summary>
public sealed record CreateModelRequest(string? Name, IReadOnlyList<LayerSpec?>? Layers, int[]? InputShape = null);

/// <summary>Body of <c>POST /api/models/validate</c>: the shape of one sample, and the batch size the estimate is for (default 32).</summary>
public sealed record ValidateModelRequest(IReadOnlyList<LayerSpec?>? Layers, int[]? InputShape, int? BatchSize = null);

public sealed record ModelView(Guid Id, string Name, int Version, IReadOnlyList<LayerSpec> Layers, DateTimeOffset CreatedAt, string? CreatedBy, ModelSummary? Summary)
{
    public static ModelView From(ModelDefinition model, ModelSummary? summary = null) =>
        new(model.Id, model.Name, model.Version, model.Layers, model.CreatedAt, model.CreatedBy, summary);
}

/// <summary>
/// Answer of <c>POST /api/models/validate</c>: every layer's output shape, parameters and FLOPs per sample,
/// the totals, and what one training step costs at the batch size asked for.
/// </summary>
public sealed record ModelValidation(
    int[] InputShape,
    int[] OutputShape,
    IReadOnlyList<LayerSummary> Layers,
    long TotalParameters,
    long ForwardFlops,
    TrainingEstimate Estimate)
{
    public static ModelValidation From(ModelSummary summary, int batchSize) =>
        new(summary.InputShape, summary.OutputShape, summary.Layers, summary.TotalParameters, summary.ForwardFlops, summary.Estimate(batchSize));
}
