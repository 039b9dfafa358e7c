namespace Experiments.Domain.Models;

/// <summary>
/// A named, immutable layer stack. Saving a changed stack under the same name creates the next version;
/// runs point at one version, so what a run trained never changes under it.
/// </summary>
public sealed class ModelDefinition
{
    private ModelDefinition()
    {
    }

    public ModelDefinition(Guid id, string name, int version, IReadOnlyList<LayerSpec> layers, DateTimeOffset createdAt)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(version, 1);
        Id = id;
        Name = name;
        Version = version;
        Layers = [.. layers];
        CreatedAt = createdAt;
    }

    public Guid Id { get; private set; }

    public string Name { get; private set; } = "";

    public int Version { get; private set; }

    public List<LayerSpec> Layers { get; private set; } = [];

    public DateTimeOffset CreatedAt { get; private set; }

    /// <summary>The name of the key that created it; null on a service without keys.</summary>
    public string? CreatedBy { get; private set; }

    /// <summary>Records who created it (at creation, before it is first saved).</summary>
    public void AttributeTo(string? createdBy) => CreatedBy = createdBy;
}
