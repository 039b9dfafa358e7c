using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Experiments.Domain.Datasets;

namespace Experiments.Training.Data.Import;

/// <summary>One uploaded file: the form field it came in, its name, and its content (a seekable stream).</summary>
public sealed record UploadedFile(string Field, string FileName, Stream Content);

/// <summary>Import settings shared by every format: the held-out test split.</summary>
public sealed record SplitOptions(double TestFraction, int Seed);

/// <summary>Everything an import needs: the files and the options sent with them.</summary>
public sealed record DatasetImportRequest(
    string Name,
    UploadedFile File,
    UploadedFile? LabelsFile,
    UploadedFile? TestFile,
    UploadedFile? TestLabelsFile,
    DatasetFormat? Format,
    DatasetTask? Task,
    CsvImportOptions Csv,
    ArrayKeys Keys,
    SplitOptions Split,
    Preprocessing Preprocessing)
{
    public IEnumerable<UploadedFile> Files => new[] { File, LabelsFile, TestFile, TestLabelsFile }.OfType<UploadedFile>();

    /// <summary>The options that change the result, in a fixed text form: part of the content hash.</summary>
    public string OptionsText => string.Create(CultureInfo.InvariantCulture,
        $"{Format}|{Task}|{Csv.LabelColumn}|{Csv.HasHeader}|{(int?)Csv.Delimiter}|{Keys.Features}|{Keys.Labels}|{Keys.TestFeatures}|{Keys.TestLabels}|"
        + $"{Split.TestFraction:R}|{Split.Seed}|{Preprocessing.Scale:R}|{Preprocessing.Standardize}|{string.Join(",", Preprocessing.Reshape ?? [])}");

    /// <summary>
    /// SHA-256 over every file (its field, length and bytes) and <see cref="OptionsText"/>: the same bytes imported
    /// with the same options are the same dataset.
    /// </summary>
    public async Task<string> ContentHashAsync(CancellationToken cancellationToken)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = new byte[1 << 16];
        foreach (var file in Files)
        {
            hash.AppendData(Encoding.UTF8.GetBytes($"{file.Field}|{file.Content.Length}|"));
            file.Content.Position = 0;
            int read;
            while ((read = await file.Content.ReadAsync(buffer, cancellationToken)) > 0)
            {
                hash.AppendData(buffer, 0, read);
            }
            file.Content.Position = 0;
        }
        // The same bytes imported with other options (label column, split, preprocessing) is another dataset.
        hash.AppendData(Encoding.UTF8.GetBytes(OptionsText));
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }
}
