using System.Diagnostics;
using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Experiments.Domain;
using Experiments.Domain.Datasets;
using Experiments.Domain.Runs;
using Experiments.Tests.Support;

namespace Experiments.Tests.Api;

/// <summary>
/// The service killed with SIGKILL during an upload's conversion, a run and a forced delete, then restarted on the same
/// data folder: the sweep leaves no orphan file, no row is half written, and the run resumes.
/// </summary>
[Collection(OneAtATime.Name)]
public sealed class ChaosTests : IDisposable
{
    private static readonly string[] Settings =
    [
        "--Experiments:RunLeaseDuration=00:00:02",
        "--Experiments:QueuePollInterval=00:00:00.100",
        "--Experiments:OrphanGracePeriod=00:00:01",
    ];

    private readonly TemporaryFolder _dataFolder = new();
    private readonly TemporaryFolder _scratch = new();

    private string DatasetsFolder => Path.Combine(_dataFolder.Path, "datasets");

    private string RunsFolder => Path.Combine(_dataFolder.Path, "runs");

    [Fact]
    public async Task Killed_during_an_upload_a_run_and_a_forced_delete_the_service_restarts_with_no_orphan_and_the_run_resumes()
    {
        const int Epochs = 6;
        var upload = WriteGzippedCsv(_scratch.File("big.csv.gz"), rows: 3_000_000);
        Guid runId, doomedDatasetId, doomedRunId;

        // 1. Killed while a run trains and a large upload is being converted.
        await using (var first = await ServiceProcess.StartAsync(_dataFolder.Path, Settings))
        {
            using var client = first.CreateClient();
            var doomed = await Workflow.ImportCsvAsync(client, SyntheticData.BlobsCsv(rows: 300, features: 4, seed: 3), "doomed");
            var doomedModel = await Workflow.CreateMlpAsync(client, name: "doomed-mlp");
            doomedDatasetId = doomed.Id;
            doomedRunId = (await Workflow.CreateRunAsync(client, doomed.Id, doomedModel.Id, epochs: 1)).Id;
            await Workflow.WaitUntilFinishedAsync(client, doomedRunId);

            var dataset = await Workflow.ImportCsvAsync(client, SyntheticData.BlobsCsv(rows: 1200, features: 12, seed: 9), "blobs");
            var model = await Workflow.CreateMlpAsync(client, name: "blobs-mlp");
            runId = (await Workflow.CreateRunAsync(client, dataset.Id, model.Id, epochs: Epochs, batchSize: 4, seed: 5)).Id;
            await Workflow.WaitUntilAsync(client, runId, run => run.EpochsCompleted >= 2);

            var uploading = UploadAsync(client, upload);
            await WaitUntilAsync(() => Directory.EnumerateFiles(DatasetsFolder, "*.partial").Any() || uploading.IsCompleted, TimeSpan.FromSeconds(30));
            await first.KillAsync();
            await Task.WhenAny(uploading);
            if (uploading.IsCompletedSuccessfully)
            {
                Assert.False((await uploading).IsSuccessStatusCode, "the upload finished before the kill");
            }
            Assert.NotEmpty(Directory.EnumerateFiles(DatasetsFolder, "*.partial"));
        }

        // 2. Killed during a forced delete: as soon as the dataset's tensor file is gone (its rows are committed by then).
        var doomedTensor = Path.Combine(DatasetsFolder, $"{doomedDatasetId:N}.bin");
        await using (var second = await ServiceProcess.StartAsync(_dataFolder.Path, Settings))
        {
            using var client = second.CreateClient();
            var deleting = client.DeleteAsync(new Uri($"/api/datasets/{doomedDatasetId}?force=true", UriKind.Relative));
            var watch = Stopwatch.StartNew();
            while (File.Exists(doomedTensor) && !deleting.IsCompleted && watch.Elapsed < TimeSpan.FromSeconds(30))
            {
                Thread.SpinWait(100);
            }
            await second.KillAsync();
            await Task.WhenAny(deleting);
        }

        // 3. Restarted on the same folder: the sweep cleans up, the run finishes.
        await using var third = await ServiceProcess.StartAsync(_dataFolder.Path, Settings);
        using var thirdClient = third.CreateClient();
        var resumed = await Workflow.WaitUntilFinishedAsync(thirdClient, runId, TimeSpan.FromSeconds(90));
        Assert.Equal(RunStatus.Succeeded, resumed.Status);
        Assert.Equal(Epochs, resumed.EpochsCompleted);
        Assert.Equal(Enumerable.Range(1, Epochs), resumed.Metrics.Select(metric => metric.Epoch));
        Assert.True(resumed.Resumes >= 1);

        List<string> orphans;
        var clean = Stopwatch.StartNew();
        do
        {
            orphans = await OrphansAsync(thirdClient);
            if (orphans.Count == 0)
            {
                break;
            }
            await Task.Delay(250);
        }
        while (clean.Elapsed < TimeSpan.FromSeconds(15));
        Assert.True(orphans.Count == 0, $"left in the data folder after the sweep: {string.Join(", ", orphans)}");

        var datasets = await (await thirdClient.GetAsync(new Uri("/api/datasets?pageSize=100", UriKind.Relative))).ReadAsAsync<Page<DatasetView>>();
        foreach (var dataset in datasets.Items)
        {
            Assert.True(File.Exists(Path.Combine(DatasetsFolder, $"{dataset.Id:N}.bin")), $"dataset {dataset.Name} has no tensor file");
            var preview = await thirdClient.GetAsync(new Uri($"/api/datasets/{dataset.Id}/preview", UriKind.Relative));
            Assert.True(preview.StatusCode == HttpStatusCode.OK, $"dataset {dataset.Name} does not read: {await preview.Content.ReadAsStringAsync()}");
        }
        Assert.DoesNotContain(datasets.Items, dataset => dataset.Name == "big");

        // The forced delete happened entirely or not at all.
        var doomedRow = await thirdClient.GetAsync(new Uri($"/api/datasets/{doomedDatasetId}", UriKind.Relative));
        var doomedRun = await thirdClient.GetAsync(new Uri($"/api/runs/{doomedRunId}", UriKind.Relative));
        if (doomedRow.StatusCode == HttpStatusCode.OK)
        {
            Assert.True(File.Exists(doomedTensor));
            Assert.Equal(HttpStatusCode.OK, doomedRun.StatusCode);
        }
        else
        {
            Assert.Equal(HttpStatusCode.NotFound, doomedRow.StatusCode);
            Assert.Equal(HttpStatusCode.NotFound, doomedRun.StatusCode);
            Assert.False(File.Exists(doomedTensor));
            Assert.False(Directory.Exists(Path.Combine(RunsFolder, doomedRunId.ToString("N"))));
        }

        Assert.Equal(HttpStatusCode.OK, (await thirdClient.GetAsync(new Uri("/health", UriKind.Relative))).StatusCode);
    }

    /// <summary>Files in the data folder no row points to: scratch and partial files, tensor files and run folders without a row.</summary>
    private async Task<List<string>> OrphansAsync(HttpClient client)
    {
        var datasets = await (await client.GetAsync(new Uri("/api/datasets?pageSize=100", UriKind.Relative))).ReadAsAsync<Page<DatasetView>>();
        var runs = await (await client.GetAsync(new Uri("/api/runs?pageSize=100", UriKind.Relative))).ReadAsAsync<Page<RunListItem>>();
        var tensorFiles = datasets.Items.Select(dataset => $"{dataset.Id:N}.bin").ToHashSet(StringComparer.Ordinal);
        var runFolders = runs.Items.Select(run => run.Id.ToString("N")).ToHashSet(StringComparer.Ordinal);
        var orphans = Directory.EnumerateFiles(_dataFolder.Path, "*.partial", SearchOption.AllDirectories).ToList();
        orphans.AddRange(Directory.EnumerateFiles(DatasetsFolder, "*.bin").Where(file => !tensorFiles.Contains(Path.GetFileName(file))));
        if (Directory.Exists(RunsFolder))
        {
            orphans.AddRange(Directory.EnumerateDirectories(RunsFolder).Where(folder => !runFolders.Contains(Path.GetFileName(folder))));
        }
        return orphans;
    }

    /// <summary>A gzipped CSV, written to disk, that decompresses to about 50 bytes a row: small to send, long to convert.</summary>
    private static string WriteGzippedCsv(string path, int rows)
    {
        byte[][] lines =
        [
            Encoding.ASCII.GetBytes("2.1250,0.1250,0.2500,1.8750,0.0625,0.3125,2.0000,0\n"),
            Encoding.ASCII.GetBytes("0.1875,2.2500,0.0625,0.2500,1.9375,0.1250,0.3750,1\n"),
            Encoding.ASCII.GetBytes("0.0625,0.3125,2.1875,0.1250,0.2500,2.0625,0.1875,2\n"),
        ];
        using var file = File.Create(path);
        using var gzip = new GZipStream(file, CompressionLevel.Fastest);
        gzip.Write(Encoding.ASCII.GetBytes("f0,f1,f2,f3,f4,f5,f6,label\n"));
        for (var row = 0; row < rows; row++)
        {
            gzip.Write(lines[row % lines.Length]);
        }
        return path;
    }

    private static async Task<HttpResponseMessage> UploadAsync(HttpClient client, string path)
    {
        await using var stream = File.OpenRead(path);
        using var form = new MultipartFormDataContent();
        var file = new StreamContent(stream);
        file.Headers.ContentType = new MediaTypeHeaderValue("application/gzip");
        form.Add(file, "file", "big.csv.gz");
        form.Add(new StringContent("big"), "name");
        return await client.PostAsync(new Uri("/api/datasets", UriKind.Relative), form);
    }

    private static async Task WaitUntilAsync(Func<bool> condition, TimeSpan timeout)
    {
        var watch = Stopwatch.StartNew();
        while (!condition())
        {
            if (watch.Elapsed > timeout)
            {
                throw new TimeoutException($"not reached within {timeout}");
            }
            await Task.Delay(20);
        }
    }

    public void Dispose()
    {
        _dataFolder.Dispose();
        _scratch.Dispose();
    }
}
