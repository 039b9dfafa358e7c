using Experiments.Api.Persistence;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Experiments.Api.Hosting;

/// <summary>What one sweep removed.</summary>
public sealed record SweepResult(int Files, int Folders, long Bytes);

/// <summary>
/// Removes what a killed process leaves in the data folder and no row points to: import scratch files and partly
/// written tensor files (<c>datasets/*.partial</c>), half-written checkpoints and weights (<c>runs/{id}/*.partial</c>), tensor files whose dataset row was never saved
/// (<c>datasets/*.bin</c>), and the folders of runs that no longer exist (<c>runs/{id}/</c>). It runs at start-up and
/// then every <see cref="ExperimentsOptions.OrphanGracePeriod"/>, and removes only what has not been written for that
/// long, so nothing an import or a run is still writing is touched.
/// </summary>
public sealed class DataFolderSweep(
    IDbContextFactory<ExperimentsDbContext> databases,
    IOptions<ExperimentsOptions> options,
    TimeProvider time,
    ILogger<DataFolderSweep> logger) : BackgroundService
{
    private readonly ExperimentsOptions _options = options.Value;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var period = TimeSpan.FromTicks(Math.Max(TimeSpan.FromSeconds(1).Ticks, _options.OrphanGracePeriod.Ticks));
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await SweepAsync(stoppingToken);
            }
            catch (Exception exception) when (exception is not OperationCanceledException)
            {
                logger.LogError(exception, "Sweeping the data folder failed; trying again in {Period}.", period);
            }
            try
            {
                await Task.Delay(period, time, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    public async Task<SweepResult> SweepAsync(CancellationToken cancellationToken)
    {
        var untouchedSince = time.GetUtcNow().UtcDateTime - _options.OrphanGracePeriod;
        await using var db = await databases.CreateDbContextAsync(cancellationToken);
        var tensorFiles = (await db.Datasets.Select(dataset => dataset.TensorFile).ToListAsync(cancellationToken)).ToHashSet(StringComparer.Ordinal);
        var runs = (await db.Runs.Select(run => run.Id).ToListAsync(cancellationToken)).Select(id => id.ToString("N")).ToHashSet(StringComparer.Ordinal);
        var (files, folders, bytes) = (0, 0, 0L);

        var datasets = new DirectoryInfo(_options.DatasetsFolderPath);
        foreach (var file in datasets.Exists ? datasets.EnumerateFiles() : [])
        {
            var orphan = file.Extension == ".partial" || (file.Extension == ".bin" && !tensorFiles.Contains(file.Name));
            var size = file.Length;
            if (orphan && file.LastWriteTimeUtc < untouchedSince && Remove(file))
            {
                (files, bytes) = (files + 1, bytes + size);
            }
        }
        var runFolders = new DirectoryInfo(_options.RunsFolderPath);
        foreach (var folder in runFolders.Exists ? runFolders.EnumerateDirectories() : [])
        {
            if (runs.Contains(folder.Name))
            {
                // A run's own folder may still hold a checkpoint or weights file a killed process left half written.
                foreach (var partial in folder.EnumerateFiles("*.partial", SearchOption.AllDirectories))
                {
                    var partialSize = partial.Length;
                    if (partial.LastWriteTimeUtc < untouchedSince && Remove(partial))
                    {
                        (files, bytes) = (files + 1, bytes + partialSize);
                    }
                }
                continue;
            }
            var contents = folder.EnumerateFiles("*", SearchOption.AllDirectories).ToList();
            if (contents.Any(file => file.LastWriteTimeUtc >= untouchedSince) || folder.LastWriteTimeUtc >= untouchedSince)
            {
                continue;
            }
            var size = contents.Sum(file => file.Length);
            if (Remove(folder))
            {
                (folders, bytes) = (folders + 1, bytes + size);
            }
        }
        if (files + folders > 0)
        {
            logger.LogWarning("Removed {Files} files and {Folders} run folders ({Bytes} bytes) from the data folder that no dataset or run points to, "
                + "left by an import or a run that was killed.", files, folders, bytes);
        }
        return new SweepResult(files, folders, bytes);
    }

    private bool Remove(FileSystemInfo entry)
    {
        try
        {
            if (entry is DirectoryInfo folder)
            {
                folder.Delete(recursive: true);
            }
            else
            {
                entry.Delete();
            }
            logger.LogInformation("Removed orphan {Path}.", entry.FullName);
            return true;
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            logger.LogWarning("Could not remove orphan {Path}: {Reason}", entry.FullName, exception.Message);
            return false;
        }
    }
}
