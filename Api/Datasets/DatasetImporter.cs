using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Experiments.Api.Hosting;
using Experiments.Api.Persistence;
using Experiments.Domain.Datasets;
using Experiments.Training.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Experiments.Api.Datasets;

/// <summary>Import settings shared by every format: the held-out test split.</summary>
public sealed record SplitOptions(double TestFraction, int Seed);

/// <summary>
/// Turns an upload into a stored dataset: hash, parse, split, describe, write the tensor file, add the
/// row. Either all of it happens or none: a refused or failed import leaves no file and no row.
/// </summary>
public sealed class DatasetImporter(ExperimentsDbContext db, IOptions<ExperimentsOptions> options, TimeProvider time)
{
    private readonly ExperimentsOptions _options = options.Value;

    public async Task<(Dataset Dataset, bool Created)> ImportCsvAsync(
        Stream upload, string? name, CsvImportOptions csv, SplitOptions split, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(_options.DatasetsFolderPath);
        var uploadPath = Path.Combine(_options.DatasetsFolderPath, $"upload-{Guid.NewGuid():N}.partial");
        try
        {
            var hash = await SaveAndHashAsync(upload, uploadPath, $"csv|{csv}|{split}", cancellationToken);
            var existing = await db.Datasets.AsNoTracking().FirstOrDefaultAsync(dataset => dataset.ContentHash == hash, cancellationToken);
            if (existing is not null)
            {
                return (existing, false);
            }

            CsvTable table;
            using (var reader = new StreamReader(uploadPath, Encoding.UTF8, detectEncodingFromByteOrderMarks: true))
            {
                table = CsvTable.Read(reader, csv);
            }
            var (labels, classNames) = EncodeLabels(table);
            var featureCount = table.FeatureNames.Length;
            var (trainRows, testRows) = Split(labels, classNames.Length, split);
            var train = Gather(table.Features, labels, featureCount, trainRows);
            var test = Gather(table.Features, labels, featureCount, testRows);
            var classCounts = new int[classNames.Length];
            foreach (var label in labels)
            {
                classCounts[label]++;
            }

            var id = Guid.NewGuid();
            var tensorFile = $"{id:N}.bin";
            var tensorPath = Path.Combine(_options.DatasetsFolderPath, tensorFile);
            DatasetFile.Write(tensorPath, [featureCount], train, test);
            var dataset = new Dataset(id, name ?? "dataset", DatasetFormat.Csv, [featureCount], classNames, classCounts,
                train.Count, test.Count, Describe(train.Features), hash, tensorFile, time.GetUtcNow());
            try
            {
                db.Datasets.Add(dataset);
                await db.SaveChangesAsync(cancellationToken);
            }
            catch
            {
                File.Delete(tensorPath);
                throw;
            }
            return (dataset, true);
        }
        finally
        {
            File.Delete(uploadPath);
        }
    }

    private static async Task<string> SaveAndHashAsync(Stream upload, string path, string optionsText, CancellationToken cancellationToken)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = new byte[1 << 16];
        await using (var file = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, useAsync: true))
        {
            int read;
            while ((read = await upload.ReadAsync(buffer, cancellationToken)) > 0)
            {
                hash.AppendData(buffer, 0, read);
                await file.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
            }
        }
        // The same bytes imported with other options (label column, split) is another dataset.
        hash.AppendData(Encoding.UTF8.GetBytes(optionsText));
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    /// <summary>Whole numbers ≥ 0 are class indices as they are; any other labels are sorted and numbered.</summary>
    private static (long[] Labels, string[] ClassNames) EncodeLabels(CsvTable table)
    {
        var labels = new long[table.RowCount];
        var allIntegers = table.Labels.All(label => long.TryParse(label, NumberStyles.Integer, CultureInfo.InvariantCulture, out _));
        if (allIntegers)
        {
            for (var row = 0; row < labels.Length; row++)
            {
                labels[row] = long.Parse(table.Labels[row], CultureInfo.InvariantCulture);
                if (labels[row] < 0)
                {
                    throw new DatasetImportException("file", $"label {labels[row]} in column '{table.LabelName}' (data row {row + 1}) is negative; class labels are 0, 1, 2, …");
                }
            }
            var max = labels.Max();
            if (max >= 10_000)
            {
                throw new DatasetImportException("file", $"label {max} in column '{table.LabelName}' would make {max + 1} classes; class labels are 0..classCount-1. Is '{table.LabelName}' the right label column?");
            }
            return (labels, Enumerable.Range(0, (int)max + 1).Select(i => i.ToString(CultureInfo.InvariantCulture)).ToArray());
        }
        var classNames = table.Labels.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray();
        if (classNames.Length > 10_000)
        {
            throw new DatasetImportException("file", $"column '{table.LabelName}' has {classNames.Length} distinct labels; is it the label column? Set labelColumn to the column holding the classes.");
        }
        var indexOf = classNames.Select((label, index) => (label, index)).ToDictionary(pair => pair.label, pair => (long)pair.index, StringComparer.Ordinal);
        for (var row = 0; row < labels.Length; row++)
        {
            labels[row] = indexOf[table.Labels[row]];
        }
        return (labels, classNames);
    }

    /// <summary>A stratified, seeded split: each class keeps its share in both splits.</summary>
    private static (int[] Train, int[] Test) Split(long[] labels, int classCount, SplitOptions options)
    {
        var random = new Random(options.Seed);
        var test = new List<int>();
        var train = new List<int>();
        for (var label = 0; label < classCount; label++)
        {
            var rows = Enumerable.Range(0, labels.Length).Where(row => labels[row] == label).ToArray();
            random.Shuffle(rows);
            var testCount = (int)Math.Round(rows.Length * options.TestFraction, MidpointRounding.AwayFromZero);
            if (testCount == rows.Length && rows.Length > 1)
            {
                testCount--;
            }
            test.AddRange(rows[..testCount]);
            train.AddRange(rows[testCount..]);
        }
        if (test.Count == 0 || train.Count == 0)
        {
            throw new DatasetImportException("testFraction", string.Create(CultureInfo.InvariantCulture,
                $"a test fraction of {options.TestFraction} of {labels.Length} rows leaves {(test.Count == 0 ? "no test" : "no training")} samples; choose a fraction that keeps both splits non-empty."));
        }
        train.Sort();
        test.Sort();
        return ([.. train], [.. test]);
    }

    private static DatasetArrays Gather(List<float> features, long[] labels, int featureCount, int[] rows)
    {
        var gathered = new float[rows.Length * featureCount];
        var gatheredLabels = new long[rows.Length];
        var source = System.Runtime.InteropServices.CollectionsMarshal.AsSpan(features);
        for (var i = 0; i < rows.Length; i++)
        {
            source.Slice(rows[i] * featureCount, featureCount).CopyTo(gathered.AsSpan(i * featureCount, featureCount));
            gatheredLabels[i] = labels[rows[i]];
        }
        return DatasetArrays.Classification(gathered, gatheredLabels);
    }

    private static FeatureStatistics Describe(float[] values)
    {
        double min = double.PositiveInfinity, max = double.NegativeInfinity, sum = 0, sumOfSquares = 0;
        foreach (var value in values)
        {
            min = Math.Min(min, value);
            max = Math.Max(max, value);
            sum += value;
            sumOfSquares += (double)value * value;
        }
        var mean = sum / values.Length;
        var variance = Math.Max(0, sumOfSquares / values.Length - mean * mean);
        // Features are float32: report min and max as the numbers the file held (0.1, not 0.100000001).
        return new FeatureStatistics((double)(decimal)(float)min, (double)(decimal)(float)max, mean, Math.Sqrt(variance));
    }
}
