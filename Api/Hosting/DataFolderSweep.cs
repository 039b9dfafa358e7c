using Experiments.Api.Persistence;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Experiments.Api.Hosting;

/// <summary>What one sweep removed.</summary>
public sealed record SweepResult(int Files, int Folders, long Bytes);

/// <summary>
/// Removes what a killed process leaves behind and no row points to: import scratch files and partly written tensor
/// files (<c>datasets/*.partial</c>), half-written checkpoints and weights (<c>runs/{id}/*.partial</c>), tensor files whose
/// dataset row was never saved (<c>datasets/*.bin</c>), the folders of runs that no longer exist (<c>runs/{id}/</c>), and
/// ASP.NET Core's buffered uploads (<c>ASPNETCORE_*.tmp</c>). It runs at start-up and
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

    protected override Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var period = TimeSpan.FromTicks(Math.Max(TimeSpan.FromSeconds(1).Ticks, _options.OrphanGracePeriod.Ticks));
        return Periodically.RunAsync(SweepAsync, period, "Sweeping the data folder", time, logger, stoppingToken);
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
            if (orphan)
            {
                RemoveIfOld(file);
            }
        }
        // ASP.NET Core buffers large form files as ASPNETCORE_*.tmp in its temporary folder and deletes them when the
        // request ends; a killed process leaves them. Removing an old one is harmless even if a live request still reads
        // it (on Linux its open handle keeps the data; elsewhere the delete fails and is logged).
        var uploads = new DirectoryInfo(Environment.GetEnvironmentVariable("ASPNETCORE_TEMP") is { Length: > 0 } temp ? temp : Path.GetTempPath());
        foreach (var file in uploads.Exists ? uploads.EnumerateFiles("ASPNETCORE_*.tmp") : [])
        {
            RemoveIfOld(file);
        }
        var runFolders = new DirectoryInfo(_options.RunsFolderPath);
        foreach (var folder in runFolders.Exists ? runFolders.EnumerateDirectories() : [])
        {
            if (runs.Contains(folder.Name))
            {
                // A run's own folder may still hold a checkpoint or weights file a killed process left half written.
                foreach (var partial in folder.EnumerateFiles("*.partial", SearchOption.AllDirectories))
                {
                    RemoveIfOld(partial);
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

        void RemoveIfOld(FileInfo file)
        {
            var size = file.Length;
            if (file.LastWriteTimeUtc < untouchedSince && Remove(file))
            {
                (files, bytes) = (files + 1, bytes + size);
            }
        }
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
