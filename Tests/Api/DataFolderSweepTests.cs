using Experiments.Api.Hosting;
using Experiments.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace Experiments.Tests.Api;

/// <summary>What a killed import or run leaves in the data folder is removed; what a row points to stays.</summary>
[Collection(OneAtATime.Name)]
public sealed class DataFolderSweepTests : IDisposable
{
    private readonly ApiFactory _factory = new() { Settings = { ["Experiments:OrphanGracePeriod"] = "00:00:02" } };

    [Fact]
    public async Task Regression_debris_of_a_killed_import_and_of_deleted_runs_is_removed_at_start_up_and_files_with_rows_stay()
    {
        // As kill -9 leaves them: an import's scratch file, a half-written tensor file, a converted file whose row was
        // never saved, the folder of a run that no longer exists, and ASP.NET Core's buffer of an upload; written an hour ago.
        var datasets = Directory.CreateDirectory(Path.Combine(_factory.DataFolder, "datasets")).FullName;
        var debris = new[]
        {
            Path.Combine(datasets, $"import-{Guid.NewGuid():N}.partial"),
            Path.Combine(datasets, $"{Guid.NewGuid():N}.bin.partial"),
            Path.Combine(datasets, $"{Guid.NewGuid():N}.bin"),
            Path.Combine(_factory.DataFolder, "runs", Guid.NewGuid().ToString("N"), "checkpoint.bin"),
            Path.Combine(Environment.GetEnvironmentVariable("ASPNETCORE_TEMP") is { Length: > 0 } temp ? temp : Path.GetTempPath(), $"ASPNETCORE_{Guid.NewGuid()}.tmp"),
        };
        foreach (var path in debris)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            await File.WriteAllBytesAsync(path, new byte[4096]);
            Age(path);
        }

        using var client = _factory.CreateClient();
        // The deleted run's folder goes as a whole, not only its file.
        await WaitUntilAsync(() => debris.All(path => !File.Exists(path)) && !Directory.Exists(Path.GetDirectoryName(debris[3])));

        var dataset = await Workflow.ImportIrisAsync(client);
        var model = await Workflow.CreateMlpAsync(client);
        var run = await Workflow.WaitUntilFinishedAsync(client, (await Workflow.CreateRunAsync(client, dataset.Id, model.Id, epochs: 1)).Id);
        var tensorFile = Path.Combine(datasets, $"{dataset.Id:N}.bin");
        var runFolder = Path.Combine(_factory.DataFolder, "runs", run.Id.ToString("N"));
        Age(tensorFile);
        foreach (var file in Directory.EnumerateFiles(runFolder))
        {
            Age(file);
        }

        var swept = await _factory.Services.GetRequiredService<DataFolderSweep>().SweepAsync(CancellationToken.None);

        Assert.Equal(0, swept.Folders);
        Assert.True(File.Exists(tensorFile));
        Assert.NotEmpty(Directory.EnumerateFiles(runFolder));
    }

    public void Dispose() => _factory.Dispose();

    private static void Age(string path) => File.SetLastWriteTimeUtc(path, DateTime.UtcNow.AddHours(-1));

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        for (var waited = TimeSpan.Zero; !condition(); waited += TimeSpan.FromMilliseconds(100))
        {
            Assert.True(waited < TimeSpan.FromSeconds(20), "the sweep did not remove the debris within 20 s");
            await Task.Delay(100);
        }
    }
}
