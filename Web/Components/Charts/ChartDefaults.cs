using Plotly.Blazor;
using Plotly.Blazor.LayoutLib;

namespace Experiments.Web.Components.Charts;

/// <summary>One look for every chart: the page's font, light grid, legend above, no plotly logo or cloud buttons.</summary>
public static class ChartDefaults
{
    private const string Font = "system-ui, -apple-system, Segoe UI, sans-serif";

    /// <summary>Pixels; the chart's element has the same height, so no space is left under the plot.</summary>
    public const int Height = 280;

    public static Config Config { get; } = new()
    {
        Responsive = true,
        DisplayLogo = false,
        DisplayModeBar = Plotly.Blazor.ConfigLib.DisplayModeBarEnum.Hover,
    };

    /// <summary>Pixels: a parallel-coordinates plot, whose axes stand upright, needs more height than a line chart.</summary>
    public const int ParallelHeight = 380;

    public static Plotly.Blazor.Layout Layout(string title, string xTitle, string? yFormat, bool logScale, bool logX = false) => new()
    {
        Title = TitleOf(title),
        Font = TextFont,
        Height = Height,
        Margin = new Margin { L = 56, R = 16, T = 48, B = 44 },
        PaperBgColor = "#ffffff",
        PlotBgColor = "#ffffff",
        ShowLegend = true,
        Legend = [new Legend { Orientation = Plotly.Blazor.LayoutLib.LegendLib.OrientationEnum.H, X = 1, XAnchor = Plotly.Blazor.LayoutLib.LegendLib.XAnchorEnum.Right, Y = 1.18m }],
        XAxis = [new XAxis
        {
            Title = new Plotly.Blazor.LayoutLib.XAxisLib.Title { Text = xTitle },
            GridColor = "#eef0f3",
            ZeroLine = false,
            Type = logX ? Plotly.Blazor.LayoutLib.XAxisLib.TypeEnum.Log : null,
            ExponentFormat = logX ? Plotly.Blazor.LayoutLib.XAxisLib.ExponentFormatEnum.Power : null,
        }],
        YAxis = [new YAxis
        {
            GridColor = "#eef0f3",
            ZeroLine = false,
            TickFormat = yFormat,
            Type = logScale ? Plotly.Blazor.LayoutLib.YAxisLib.TypeEnum.Log : null,
        }],
    };

    /// <summary>For the parallel-coordinates plot: the title and font, no legend; its axes are drawn by the plot itself.</summary>
    public static Plotly.Blazor.Layout ParallelLayout(string title) => new()
    {
        Title = TitleOf(title),
        Font = TextFont,
        Height = ParallelHeight,
        Margin = new Margin { L = 24, R = 24, T = 48, B = 40 },
        PaperBgColor = "#ffffff",
        PlotBgColor = "#ffffff",
        ShowLegend = false,
    };

    private static Font TextFont => new() { Family = Font, Size = 12, Color = "#1f2933" };

    private static Title TitleOf(string text) =>
        new() { Text = text, X = 0, XAnchor = Plotly.Blazor.LayoutLib.TitleLib.XAnchorEnum.Left, Font = new Plotly.Blazor.LayoutLib.TitleLib.Font { Size = 14 } };
}
