namespace Experiments.Domain.Models;

/// <summary>Body of <c>POST /api/models</c>: a name and a layer stack; inputShape optionally checks shapes now.</summary>
public sealed record CreateModelRequest(string? Name, IReadOnlyList<LayerSpec?>? Layers, int[]? InputShape = null);

/// <summary>Body of <c>POST /api/models/validate</c>.</summary>
public sealed record ValidateModelRequest(IReadOnlyList<LayerSpec?>? Layers, int[]? InputShape);

public sealed record ModelView(Guid Id, string Name, int Version, IReadOnlyList<LayerSpec> Layers, DateTimeOffset CreatedAt, ModelSummary? Summary)
{
    public static ModelView From(ModelDefinition model, ModelSummary? summary = null) =>
        new(model.Id, model.Name, model.Version, model.Layers, model.CreatedAt, summary);
}
