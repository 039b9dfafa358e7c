using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using Experiments.Domain;
using Experiments.Domain.Datasets;
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
        _mounted = Run("mount", $"-t tmpfs -o size=3m tmpfs {_mount.Path}");
        if (!_mounted)
        {
            output.WriteLine("This machine does not let the tests mount a tmpfs; the full-disk case was not exercised.");
            return;
        }
        _factory.Settings["Experiments:DataFolder"] = _mount.Path;
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
