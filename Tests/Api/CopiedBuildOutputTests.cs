using System.Net;
using System.Text.Json.Nodes;
using Experiments.Api.Hosting;
using Experiments.Tests.Support;

namespace Experiments.Tests.Api;

/// <summary>
/// A build output moved to another machine keeps a static web assets manifest whose absolute paths are not
/// there. The service must still start and serve its API.
/// </summary>
[Collection(OneAtATime.Name)]
public sealed class CopiedBuildOutputTests : IDisposable
{
    private readonly TemporaryFolder _folder = new();

    [Fact]
    public async Task A_build_output_whose_manifest_names_missing_folders_still_serves_the_api()
    {
        var copy = _folder.File("api");
        LinkTree(ServiceProcess.ApiOutputFolder(), copy);
        var manifestPath = Path.Combine(copy, "Experiments.Api.staticwebassets.runtime.json");
        var manifest = JsonNode.Parse(await File.ReadAllTextAsync(manifestPath))!;
        // As on the machine that built it: every folder it names is elsewhere.
        manifest["ContentRoots"] = new JsonArray([.. manifest["ContentRoots"]!.AsArray().Select((_, index) => (JsonNode?)$"/nonexistent/build/machine/{index}/")]);
        File.Delete(manifestPath);
        await File.WriteAllTextAsync(manifestPath, manifest.ToJsonString());

        await using var service = await ServiceProcess.StartFromAsync(copy, _folder.File("data"));
        using var client = service.CreateClient();

        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/models/templates")).StatusCode);
    }

    [Fact]
    public void Only_the_content_roots_that_are_not_here_are_reported()
    {
        var manifest = new JsonObject
        {
            ["ContentRoots"] = new JsonArray(Path.GetTempPath(), "/nonexistent/root/"),
            ["Root"] = new JsonObject(),
        };
        var missing = StaticWebAssets.MissingContentRoots(manifest.ToJsonString());

        Assert.Equal(["/nonexistent/root/"], missing);
    }

    public void Dispose() => _folder.Dispose();

    /// <summary>
    /// A copy of a build output: the app's own assembly and its JSON files copied (the host finds its folder from
    /// the real path of the assembly it starts), everything else linked (the folder holds half a gigabyte of libtorch).
    /// </summary>
    private static void LinkTree(string source, string target)
    {
        foreach (var directory in Directory.EnumerateDirectories(source, "*", SearchOption.AllDirectories))
        {
            Directory.CreateDirectory(Path.Combine(target, Path.GetRelativePath(source, directory)));
        }
        Directory.CreateDirectory(target);
        foreach (var file in Directory.EnumerateFiles(source, "*", SearchOption.AllDirectories))
        {
            var copy = Path.Combine(target, Path.GetRelativePath(source, file));
            if (Path.GetFileName(file) == "Experiments.Api.dll" || file.EndsWith(".json", StringComparison.Ordinal))
            {
                File.Copy(file, copy);
            }
            else
            {
                File.CreateSymbolicLink(copy, file);
            }
        }
    }
}
