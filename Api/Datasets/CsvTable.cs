using System.Globalization;

namespace Experiments.Api.Datasets;

/// <summary>A refused upload: which request field is at fault and what to fix.</summary>
public sealed class DatasetImportException(string field, string message) : Exception(message)
{
    public string Field { get; } = field;
}

/// <summary>Options of a CSV import, as sent in the multipart form.</summary>
public sealed record CsvImportOptions(string? LabelColumn, bool? HasHeader, char? Delimiter);

/// <summary>
/// A parsed CSV file: numeric feature columns row-major in one array, the label column as text.
/// Rows are read one at a time; no per-row objects are kept.
/// </summary>
public sealed class CsvTable
{
    private CsvTable(string[] featureNames, string labelName, List<float> features, List<string> labels)
    {
        FeatureNames = featureNames;
        LabelName = labelName;
        Features = features;
        Labels = labels;
    }

    public string[] FeatureNames { get; }

    public string LabelName { get; }

    public List<float> Features { get; }

    public List<string> Labels { get; }

    public int RowCount => Labels.Count;

    public static CsvTable Read(TextReader reader, CsvImportOptions options)
    {
        var lineNumber = 0;
        var first = ReadNonEmptyLine(reader, ref lineNumber)
            ?? throw new DatasetImportException("file", "the file is empty: expected a header or a first row of comma-separated values.");
        var delimiter = options.Delimiter ?? DetectDelimiter(first);
        var firstCells = Split(first, delimiter);
        if (firstCells.Length < 2)
        {
            throw new DatasetImportException("file", $"line {lineNumber} has a single column; a dataset needs at least one feature column and a label column "
                + "(set 'delimiter' if the file is not separated by commas, semicolons or tabs).");
        }

        var firstLineNumber = lineNumber;
        var secondLine = ReadNonEmptyLine(reader, ref lineNumber);
        var secondLineNumber = lineNumber;
        var secondCells = secondLine is null ? null : Split(secondLine, delimiter);
        var labelIsName = options.LabelColumn is { } given && !int.TryParse(given, NumberStyles.Integer, CultureInfo.InvariantCulture, out _);
        var hasHeader = options.HasHeader ?? (labelIsName || LooksLikeHeader(firstCells, secondCells));
        var names = hasHeader
            ? firstCells.Select(cell => cell.Trim()).ToArray()
            : Enumerable.Range(0, firstCells.Length).Select(i => $"column{i}").ToArray();
        var labelIndex = ResolveLabelColumn(options.LabelColumn, names, hasHeader);
        var featureNames = names.Where((_, i) => i != labelIndex).ToArray();

        var features = new List<float>();
        var labels = new List<string>();
        if (!hasHeader)
        {
            AddRow(firstCells, firstLineNumber);
        }
        if (secondCells is not null)
        {
            AddRow(secondCells, secondLineNumber);
        }
        string? line;
        while ((line = reader.ReadLine()) is not null)
        {
            lineNumber++;
            if (line.Trim().Length == 0)
            {
                continue;
            }
            AddRow(Split(line, delimiter), lineNumber);
        }
        if (labels.Count == 0)
        {
            throw new DatasetImportException("file", "the file has a header but no data rows.");
        }
        return new CsvTable(featureNames, names[labelIndex], features, labels);

        void AddRow(string[] cells, int number)
        {
            if (cells.Length != names.Length)
            {
                throw new DatasetImportException("file", $"line {number} has {cells.Length} values but the {(hasHeader ? "header" : "first row")} has {names.Length}; every row needs the same number of columns.");
            }
            for (var column = 0; column < cells.Length; column++)
            {
                if (column == labelIndex)
                {
                    var label = cells[column].Trim();
                    if (label.Length == 0)
                    {
                        throw new DatasetImportException("file", $"line {number}, column '{names[column]}': the label is empty.");
                    }
                    labels.Add(label);
                    continue;
                }
                var text = cells[column].Trim();
                if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value))
                {
                    throw new DatasetImportException("file", $"line {number}, column '{names[column]}': '{Shorten(text)}' is not a number. Feature columns must be numeric; "
                        + $"if this is the label column, set labelColumn to '{names[column]}'.");
                }
                if (!double.IsFinite(value) || Math.Abs(value) > float.MaxValue)
                {
                    throw new DatasetImportException("file", $"line {number}, column '{names[column]}': {text} is not a finite 32-bit number; remove or impute it before importing.");
                }
                features.Add((float)value);
            }
        }
    }

    private static string? ReadNonEmptyLine(TextReader reader, ref int lineNumber)
    {
        string? line;
        while ((line = reader.ReadLine()) is not null)
        {
            lineNumber++;
            if (line.Trim().Length > 0)
            {
                return line;
            }
        }
        return null;
    }

    private static char DetectDelimiter(string line)
    {
        char[] candidates = [',', ';', '\t', '|'];
        return candidates.MaxBy(candidate => line.Count(c => c == candidate));
    }

    private static bool LooksLikeHeader(string[] first, string[]? second)
    {
        if (second is null || second.Length != first.Length)
        {
            return first.Any(cell => !IsNumber(cell));
        }
        return first.Where((cell, i) => !IsNumber(cell) && IsNumber(second[i])).Any()
            || first.All(cell => !IsNumber(cell)) && second.Any(IsNumber);
    }

    private static bool IsNumber(string cell) =>
        double.TryParse(cell.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out _);

    private static int ResolveLabelColumn(string? labelColumn, string[] names, bool hasHeader)
    {
        if (string.IsNullOrWhiteSpace(labelColumn))
        {
            return names.Length - 1;
        }
        if (int.TryParse(labelColumn, NumberStyles.Integer, CultureInfo.InvariantCulture, out var index))
        {
            var resolved = index < 0 ? names.Length + index : index;
            if (resolved < 0 || resolved >= names.Length)
            {
                throw new DatasetImportException("labelColumn", $"column index {index} is out of range: the file has {names.Length} columns (0..{names.Length - 1}, or -1 for the last).");
            }
            return resolved;
        }
        var byName = Array.FindIndex(names, name => string.Equals(name, labelColumn.Trim(), StringComparison.Ordinal));
        if (byName < 0)
        {
            var where = hasHeader ? $"the header has: {string.Join(", ", names)}" : "the file has no header row, so give the column's index instead";
            throw new DatasetImportException("labelColumn", $"there is no column named '{labelColumn}'; {where}.");
        }
        return byName;
    }

    private static string Shorten(string text) => text.Length <= 40 ? text : text[..40] + "…";

    /// <summary>Splits one line, honouring double-quoted fields ("a,b" and "" for a quote).</summary>
    private static string[] Split(string line, char delimiter)
    {
        if (!line.Contains('"'))
        {
            return line.Split(delimiter);
        }
        var cells = new List<string>();
        var cell = new System.Text.StringBuilder();
        var quoted = false;
        for (var i = 0; i < line.Length; i++)
        {
            var c = line[i];
            if (quoted)
            {
                if (c == '"' && i + 1 < line.Length && line[i + 1] == '"')
                {
                    cell.Append('"');
                    i++;
                }
                else if (c == '"')
                {
                    quoted = false;
                }
                else
                {
                    cell.Append(c);
                }
            }
            else if (c == '"')
            {
                quoted = true;
            }
            else if (c == delimiter)
            {
                cells.Add(cell.ToString());
                cell.Clear();
            }
            else
            {
                cell.Append(c);
            }
        }
        cells.Add(cell.ToString());
        return [.. cells];
    }
}
