using System.Globalization;
using System.IO.Compression;
using System.Text;
using Experiments.Api.Datasets;
using Experiments.Api.Hosting;
using Experiments.Api.Persistence;
using Experiments.Domain.Datasets;
using Experiments.Training.Data.Import;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Experiments.Bench;

/// <summary>
/// Imports a 50,000 × 784 dataset (MNIST's size) as CSV and as a compressed .npz through the real importer
/// (hash, parse, split, convert, write the tensor file, add the row to SQLite) and reports MB/s of the file
/// and the process's peak memory, which must stay far below the file's size for a CSV.
/// </summary>
public static class ImportBenchmark
{
    public const string Name = "import";

    public static async Task RunAsync(string[] args)
    {
        var rows = Machine.Option(args, "--rows", 50_000);
        const int columns = 784;
        var folder = Machine.TemporaryFolder();
        try
        {
            var csvPath = Path.Combine(folder, "data.csv");
            var npzPath = Path.Combine(folder, "data.npz");
            WriteCsv(csvPath, rows, columns);
            WriteNpz(npzPath, rows, columns);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"data: {rows} × {columns}; CSV {Mb(csvPath):F1} MB, NPZ (float32, deflated) {Mb(npzPath):F1} MB"));
            var peakBefore = Machine.PeakResidentMiB();

            await using var db = await DatabaseAsync(folder);
            await MeasureAsync(db, folder, "csv", csvPath, DatasetFormat.Csv);
            var peakAfterCsv = Machine.PeakResidentMiB();
            await MeasureAsync(db, folder, "npz", npzPath, DatasetFormat.Npz);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"peak resident memory: {peakBefore:F0} MiB before importing (the generated data), {peakAfterCsv:F0} MiB after the CSV, {Machine.PeakResidentMiB():F0} MiB after the NPZ"));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    private static async Task MeasureAsync(ExperimentsDbContext db, string folder, string label, string path, DatasetFormat format)
    {
        var importer = Importer(db, folder);
        await using var content = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        var request = Request(label, path, content, format);
        var clock = Clock.Start();
        var (dataset, _) = await importer.ImportAsync(request, Experiments.Domain.Access.Caller.CommandLine, CancellationToken.None);
        var lap = clock.Elapsed;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{label}: {lap}; {Mb(path) / lap.WallSeconds:F1} MB/s of file by wall time, {Mb(path) / lap.CpuSeconds:F1} MB/s per CPU-second; "
            + $"{(dataset.TrainCount + dataset.TestCount) / lap.WallSeconds:F0} samples/s (stored as {dataset.StoredBytes / 1e6:F1} MB)"));
    }

    /// <summary>A migrated SQLite catalog in <paramref name="folder"/>, for importing through the real importer.</summary>
    /// <summary>The real importer on <paramref name="db"/>, its data folder <paramref name="folder"/>, uploads up to 4 GiB.</summary>
    internal static DatasetImporter Importer(ExperimentsDbContext db, string folder)
    {
        var options = Options.Create(new ExperimentsOptions { DataFolder = folder, MaxUploadBytes = 4L << 30 });
        return new(db, options, new DataFolderArtifacts(options), TimeProvider.System);
    }

    /// <summary>An upload of one file with the form's defaults: the last column is the label, 20% held out with seed 0.</summary>
    internal static DatasetImportRequest Request(string name, string path, Stream content, DatasetFormat format) =>
        new(name, new UploadedFile("file", Path.GetFileName(path), content), null, null, null, format, null,
            new CsvImportOptions(null, null, null), ArrayKeys.None, new SplitOptions(0.2, 0), Preprocessing.None);

    internal static async Task<ExperimentsDbContext> DatabaseAsync(string folder)
    {
        var options = new DbContextOptionsBuilder<ExperimentsDbContext>().UseSqlite($"Data Source={Path.Combine(folder, "bench.db")}").Options;
        var db = new ExperimentsDbContext(options);
        await db.Database.MigrateAsync();
        return db;
    }

    /// <summary>Pixel-like values: whole numbers 0..255 with three in four zero, the label first, as the Kaggle MNIST CSV.</summary>
    private static void WriteCsv(string path, int rows, int columns)
    {
        var random = new Random(1);
        using var writer = new StreamWriter(path, false, new UTF8Encoding(false), 1 << 16);
        writer.Write("label");
        for (var c = 0; c < columns; c++)
        {
            writer.Write(",pixel");
            writer.Write(c);
        }
        writer.Write('\n');
        var line = new StringBuilder();
        for (var r = 0; r < rows; r++)
        {
            line.Clear().Append(r % 10);
            for (var c = 0; c < columns; c++)
            {
                line.Append(',').Append(random.Next(4) == 0 ? random.Next(256) : 0);
            }
            writer.Write(line.Append('\n'));
        }
    }

    /// <summary>float32 features in [0, 1) and int64 labels, deflated as np.savez_compressed writes them.</summary>
    private static void WriteNpz(string path, int rows, int columns)
    {
        var random = new Random(2);
        using var zip = new ZipArchive(File.Create(path), ZipArchiveMode.Create);
        WriteEntry(zip, "x_train", "<f4", $"({rows}, {columns})", stream =>
        {
            var row = new float[columns];
            for (var r = 0; r < rows; r++)
            {
                for (var c = 0; c < columns; c++)
                {
                    row[c] = random.Next(4) == 0 ? (float)random.NextDouble() : 0f;
                }
                stream.Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(row.AsSpan()));
            }
        });
        WriteEntry(zip, "y_train", "<i8", $"({rows},)", stream =>
        {
            for (var r = 0; r < rows; r++)
            {
                stream.Write(BitConverter.GetBytes((long)(r % 10)));
            }
        });
    }

    /// <summary>One .npy entry (format 1.0, header padded to 64 bytes) whose data <paramref name="write"/> writes.</summary>
    internal static void WriteEntry(ZipArchive zip, string name, string descr, string shape, Action<Stream> write)
    {
        using var stream = zip.CreateEntry(name + ".npy", CompressionLevel.Fastest).Open();
        var header = $"{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}";
        header = header.PadRight(header.Length + (64 - (10 + header.Length + 1) % 64) % 64) + "\n";
        stream.Write([0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0]);
        stream.Write(BitConverter.GetBytes((ushort)header.Length));
        stream.Write(Encoding.ASCII.GetBytes(header));
        write(stream);
    }

    private static double Mb(string path) => new FileInfo(path).Length / 1e6;
}
