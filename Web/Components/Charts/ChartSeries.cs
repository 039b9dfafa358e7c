namespace Experiments.Web.Components.Charts;

/// <summary>
/// One line of a chart: points (x, y); a null y leaves a gap (an epoch that was not evaluated). <see cref="MarkersOnly"/>
/// draws the points alone, large (a marked value, such as a suggested learning rate).
/// </summary>
public sealed record ChartSeries(string Name, IReadOnlyList<double> X, IReadOnlyList<double?> Y, string Color, bool Dashed = false, bool MarkersOnly = false);

/// <summary>The dashboard's colours, so that train and test look the same on every chart.</summary>
public static class ChartColors
{
    public const string Train = "#3b5bdb";
    public const string Test = "#e8590c";
    public const string Validation = "#2f9e44";
    public const string LearningRate = "#7048e8";
    public const string Smoothed = "#c2255c";

    /// <summary>One colour per run on the compare view, in order.</summary>
    public static IReadOnlyList<string> Runs { get; } =
        ["#3b5bdb", "#e8590c", "#2b8a3e", "#c2255c", "#1098ad", "#f08c00", "#6741d9", "#495057", "#a61e4d", "#087f5b"];

    public static string Run(int index) => Runs[index % Runs.Count];
}
