using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using Experiments.Domain;
using Experiments.Domain.Datasets;
using Experiments.Domain.Models;
using Experiments.Domain.Runs;
using Experiments.Tests.Support;
using Xunit.Abstractions;

namespace Experiments.Tests.Api.Datasets;

/// <summary>
/// The data folder on a 3 MiB tmpfs: an import that does not fit answers 507 and leaves nothing behind. Needs a
/// machine that lets the tests mount a tmpfs (root on Linux, as CI is); elsewhere the test says so and passes.
/// </summary>
[Collection(OneAtATime.Name)]
public sealed class FullDiskTests(ITestOutputHelper output) : IDisposable
{
    private readonly ApiFactory _factory = new();
    private readonly TemporaryFolder _mount = new();
    private bool _mounted;

    [Fact]
    public async Task Regression_an_import_that_does_not_fit_in_the_data_folder_answers_507_and_leaves_nothing_behind()
    {
        if (!Mount("3m"))
        {
            return;
        }
        using var client = _factory.CreateClient();
        // 60,000 rows of 20 non-integer features: about 4.8 MB as float32, more than the folder has left.
        var csv = new StringBuilder("label," + string.Join(",", Enumerable.Range(0, 20).Select(i => $"x{i}")) + "\n");
        for (var row = 0; row < 60_000; row++)
        {
            csv.Append(row % 3).Append(',').AppendJoin(',', Enumerable.Range(0, 20).Select(i => ((row * 7 + i) % 100 / 7.0).ToString("F3", CultureInfo.InvariantCulture))).Append('\n');
        }

        var refused = await client.PostAsync("/api/datasets", Workflow.CsvForm(Encoding.ASCII.GetBytes(csv.ToString()), "wide.csv", ("labelColumn", "0")));

        var problem = await ProblemAssertions.ExpectProblemAsync(refused, HttpStatusCode.InsufficientStorage);
        Assert.Contains("no space left", Assert.Single(problem.Errors["file"]), StringComparison.Ordinal);
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(_mount.Path, "datasets")));
        Assert.Equal(0, (await (await client.GetAsync("/api/datasets")).ReadAsAsync<Page<DatasetView>>()).TotalCount);
        // The space is free again: a dataset that fits imports.
        Assert.Equal(HttpStatusCode.Created, (await client.PostAsync("/api/datasets", Workflow.CsvForm(await File.ReadAllBytesAsync(Workflow.IrisPath), "iris.csv"))).StatusCode);
    }

    [Fact]
    public async Task Regression_a_run_whose_checkpoint_does_not_fit_fails_with_that_reason_and_leaves_no_partial_file()
    {
        if (!Mount("24m"))
        {
            return;
        }
        using var client = _factory.CreateClient();
        var dataset = await Workflow.ImportIrisAsync(client);
        // 4.2 million weights: a checkpoint with Adam's two moments is about 50 MB, twice what the folder holds.
        var created = await client.PostAsJsonAsync("/api/models", new
        {
            name = "wide", layers = new object[] { new { type = "linear", outFeatures = 2048 }, new { type = "relu" }, new { type = "linear", outFeatures = 2048 },
                new { type = "relu" }, new { type = "linear", outFeatures = 3 } },
        });
        var model = await created.ReadAsAsync<ModelView>();

        var run = await Workflow.WaitUntilFinishedAsync(client, (await Workflow.CreateRunAsync(client, dataset.Id, model.Id, epochs: 3)).Id);

        Assert.Equal(RunStatus.Failed, run.Status);
        Assert.Contains("No space left on device", run.Error, StringComparison.Ordinal);
        Assert.Empty(Directory.EnumerateFiles(_mount.Path, "*.partial", SearchOption.AllDirectories));
    }

    /// <summary>Puts the data folder on a tmpfs of <paramref name="size"/>; false (and says so) where the machine does not allow it.</summary>
    private bool Mount(string size)
    {
        _mounted = Run("mount", $"-t tmpfs -o size={size} tmpfs {_mount.Path}");
        if (!_mounted)
        {
            output.WriteLine("This machine does not let the tests mount a tmpfs; the full-disk case was not exercised.");
            return false;
        }
        _factory.Settings["Experiments:DataFolder"] = _mount.Path;
        return true;
    }

    public void Dispose()
    {
        _factory.Dispose();
        if (_mounted)
        {
            Run("umount", $"-l {_mount.Path}");
        }
        _mount.Dispose();
    }

    private static bool Run(string command, string arguments)
    {
        try
        {
            using var process = Process.Start(new ProcessStartInfo(command, arguments) { RedirectStandardError = true, RedirectStandardOutput = true })!;
            process.WaitForExit();
            return process.ExitCode == 0;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return false;
        }
    }
}
