using System.Text.Json;

namespace Experiments.Api.Hosting;

/// <summary>
/// Serves the dashboard's static web assets (Blazor's script, the Web project's styles, Plotly) from where the
/// build left them, in every environment. The build's manifest names those folders by absolute path, so a build
/// output copied to another machine points at folders that are not there, and ASP.NET Core would stop the host
/// at startup: such a copy starts without the dashboard's files, and says so. A published app carries the files
/// in its wwwroot and has no manifest.
/// </summary>
public static class StaticWebAssets
{
    public static WebApplicationBuilder UseStaticWebAssetsOfTheBuild(this WebApplicationBuilder builder)
    {
        var manifest = Path.Combine(AppContext.BaseDirectory, $"{builder.Environment.ApplicationName}.staticwebassets.runtime.json");
        var missing = File.Exists(manifest) ? MissingContentRoots(File.ReadAllText(manifest)) : [];
        if (missing.Count > 0)
        {
            Console.Error.WriteLine(
                $"warning: the dashboard's files are not served: {Path.GetFileName(manifest)} names folders that are not on this machine "
                + $"({string.Join(", ", missing)}). This build output was copied from another machine; "
                + "publish the service (dotnet publish Api -c Release) to move it. The REST API works without them.");
            return builder;
        }
        builder.WebHost.UseStaticWebAssets();
        return builder;
    }

    /// <summary>The manifest's content roots that do not exist here.</summary>
    public static IReadOnlyList<string> MissingContentRoots(string manifestJson)
    {
        using var document = JsonDocument.Parse(manifestJson);
        return document.RootElement.TryGetProperty("ContentRoots", out var roots)
            ? [.. roots.EnumerateArray().Select(root => root.GetString() ?? "").Where(root => !Directory.Exists(root))]
            : [];
    }
}
