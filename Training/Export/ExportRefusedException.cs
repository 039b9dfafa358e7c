namespace Experiments.Training.Export;

/// <summary>
/// A model that cannot be written in the requested format: <see cref="Field"/> names the layer (<c>layers[3]</c>,
/// <c>layers[3].layers[1]</c> inside a residual block) and the message says why and what to download instead.
/// </summary>
public sealed class ExportRefusedException(string field, string message) : Exception(message)
{
    public string Field { get; } = field;
}
