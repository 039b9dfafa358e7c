using System.Globalization;
using System.Text;
using Experiments.Domain.Datasets;
using Experiments.Training.Data.Import;

namespace Experiments.Bench;

/// <summary>
/// The process's peak memory while the real importer reads one hostile CSV: a single line of <c>--mb</c> MB
/// (<c>--case single-line</c>) or a label cell of that size (<c>--case label-cell</c>). One case per process, since
/// the peak only grows; the readers' limits should refuse either within a few MiB of the baseline.
/// </summary>
public static class HostileImportBenchmark
{
    public const string Name = "hostile";

    public static async Task RunAsync(string[] args)
    {
        var megabytes = Machine.Option(args, "--mb", 50);
        var index = Array.IndexOf(args, "--case");
        var which = index >= 0 && index + 1 < args.Length ? args[index + 1] : "single-line";
        var folder = Machine.TemporaryFolder();
        try
        {
            var path = Path.Combine(folder, "hostile.csv");
            Write(path, which, megabytes);
            var before = Machine.PeakResidentMiB();
            await using var db = await ImportBenchmark.DatabaseAsync(folder);
            var importer = ImportBenchmark.Importer(db, folder);
            await using var content = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
            var request = ImportBenchmark.Request("hostile", path, content, DatasetFormat.Csv);
            string outcome;
            try
            {
                await importer.ImportAsync(request, Experiments.Domain.Access.Caller.CommandLine, CancellationToken.None);
                outcome = "imported";
            }
            catch (DatasetImportException refused)
            {
                outcome = $"refused: {refused.Message[..Math.Min(120, refused.Message.Length)]}";
            }
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{which} CSV of {megabytes} MB: peak resident memory {before:F0} MiB before the import, {Machine.PeakResidentMiB():F0} MiB after; {outcome}"));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    /// <summary>Written a block at a time, so that making the file does not raise the peak being measured.</summary>
    private static void Write(string path, string which, int megabytes)
    {
        using var writer = new StreamWriter(path, false, new UTF8Encoding(false), 1 << 16);
        var block = which == "label-cell" ? new string('x', 1_000_000) : string.Concat(Enumerable.Repeat("1,", 500_000));
        writer.Write(which == "label-cell" ? "a,label\n1," : "");
        for (var i = 0; i < megabytes; i++)
        {
            writer.Write(block);
        }
        writer.Write(which == "label-cell" ? "\n" : "0\n");
    }
}
