using System.Globalization;

namespace Experiments.Training.Diagnostics;

/// <summary>
/// A module's parameter name as the spec's layer path: <c>0.weight</c> is <c>layers[0].weight</c>, a residual block's
/// <c>3.layers.1.bias</c> is <c>layers[3].layers[1].bias</c>, and the wrappers of embeddings and recurrent layers
/// (<see cref="Layers.ModelBuilder"/>'s modules) are left out: <c>4.lstm.weight_hh_l0</c> is <c>layers[4].weight_hh_l0</c>.
/// </summary>
public static class ParameterNames
{
    private static readonly HashSet<string> Wrappers = ["embedding", "lstm", "gru"];

    public static string ToSpecPath(string name)
    {
        var parts = name.Split('.');
        if (!IsIndex(parts[0]))
        {
            return name;
        }
        var path = $"layers[{parts[0]}]";
        for (var index = 1; index < parts.Length; index++)
        {
            if (parts[index] == "layers" && index + 1 < parts.Length && IsIndex(parts[index + 1]))
            {
                path += $".layers[{parts[++index]}]";
            }
            else if (!(Wrappers.Contains(parts[index]) && index + 1 < parts.Length))
            {
                path += "." + parts[index];
            }
        }
        return path;
    }

    private static bool IsIndex(string part) => int.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out _);
}
