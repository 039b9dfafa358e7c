using System.Globalization;

namespace Experiments.Training.Data.Import;

/// <summary>Options of a CSV import, as sent in the multipart form.</summary>
public sealed record CsvImportOptions(string? LabelColumn, bool? HasHeader, char? Delimiter);

/// <summary>
/// Reads a CSV or TSV file one line at a time: the numeric feature columns go straight to a float32 staging
/// file (row-major), the label column is kept as text. Memory holds one line and the labels, whatever the
/// file's size: a line is never read past <see cref="ImportLimits.MaxCsvLineLength"/> characters, nor cut
/// into more than <see cref="ImportLimits.MaxCsvColumns"/> cells.
/// </summary>
public static class CsvTable
{
    public static (ArraySource Features, LabelSource Labels) Read(TextReader text, CsvImportOptions options, ImportWorkspace workspace, string field)
    {
        var limits = workspace.Limits;
        var reader = new LineReader(text, limits.MaxCsvLineLength, field);
        var lineNumber = 0;
        var first = ReadNonEmptyLine(reader, ref lineNumber)
            ?? throw new DatasetImportException(field, "the file is empty: expected a header or a first row of comma-separated values.");
        var delimiter = options.Delimiter ?? DetectDelimiter(first);
        var firstCells = Split(first, delimiter, limits.MaxCsvColumns, lineNumber, field);
        if (firstCells.Length < 2)
        {
            throw new DatasetImportException(field, $"line {lineNumber} has a single column; a dataset needs at least one feature column and a label column "
                + "(set 'delimiter' if the file is not separated by commas, semicolons or tabs).");
        }

        var firstLineNumber = lineNumber;
        var secondLine = ReadNonEmptyLine(reader, ref lineNumber);
        var secondLineNumber = lineNumber;
        var secondCells = secondLine is null ? null : Split(secondLine, delimiter, limits.MaxCsvColumns, secondLineNumber, field);
        var labelIsName = options.LabelColumn is { } given && !int.TryParse(given, NumberStyles.Integer, CultureInfo.InvariantCulture, out _);
        var hasHeader = options.HasHeader ?? (labelIsName || LooksLikeHeader(firstCells, secondCells));
        var names = hasHeader
            ? firstCells.Select(cell => cell.Trim()).ToArray()
            : Enumerable.Range(0, firstCells.Length).Select(i => $"column{i}").ToArray();
        var labelIndex = ResolveLabelColumn(options.LabelColumn, names, hasHeader);
        var featureCount = names.Length - 1;

        var staging = workspace.CreateFile();
        var row = new float[featureCount];
        var labels = new List<string>();
        // Class labels repeat: each distinct text is kept once (up to as many as there may be classes).
        var distinctLabels = new HashSet<string>(StringComparer.Ordinal);
        var labelTexts = distinctLabels.GetAlternateLookup<ReadOnlySpan<char>>();
        var lines = new List<int>();
        var fitsInBytes = true;
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
            if (line.AsSpan().Trim().Length == 0)
            {
                continue;
            }
            AddLine(line, lineNumber);
        }
        if (labels.Count == 0)
        {
            throw new DatasetImportException(field, "the file has a header but no data rows.");
        }
        staging.Flush();
        var features = new ArraySource(field, field, NumericType.Float32, [labels.Count, featureCount], staging, 0, fitsInBytes);
        var lineOf = lines.ToArray();
        var labelName = names[labelIndex];
        return (features, LabelSource.FromTexts(labelName, field, [.. labels],
            index => string.Create(CultureInfo.InvariantCulture, $"line {lineOf[index]}, column '{labelName}'")));

        void AddRow(string[] cells, int number)
        {
            if (cells.Length != names.Length)
            {
                throw Ragged(number, cells.Length);
            }
            var feature = 0;
            for (var column = 0; column < cells.Length; column++)
            {
                AddCell(cells[column], column, number, ref feature);
            }
            staging.Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(row.AsSpan()));
            lines.Add(number);
        }

        // The common case, a line without quotes, is cut into cells without allocating them.
        void AddLine(string line, int number)
        {
            if (line.Contains('"'))
            {
                AddRow(Split(line, delimiter, limits.MaxCsvColumns, number, field), number);
                return;
            }
            var rest = line.AsSpan();
            var column = 0;
            var feature = 0;
            while (true)
            {
                var end = rest.IndexOf(delimiter);
                var cell = end < 0 ? rest : rest[..end];
                if (column >= names.Length)
                {
                    throw Ragged(number, line.AsSpan().Count(delimiter) + 1);
                }
                AddCell(cell, column, number, ref feature);
                column++;
                if (end < 0)
                {
                    break;
                }
                rest = rest[(end + 1)..];
            }
            if (column != names.Length)
            {
                throw Ragged(number, column);
            }
            staging.Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(row.AsSpan()));
            lines.Add(number);
        }

        void AddCell(ReadOnlySpan<char> cell, int column, int number, ref int feature)
        {
            var text = cell.Trim();
            if (column == labelIndex)
            {
                if (text.Length == 0)
                {
                    throw new DatasetImportException(field, $"line {number}, column '{names[column]}': the label is empty.");
                }
                if (!labelTexts.TryGetValue(text, out var label))
                {
                    label = text.ToString();
                    if (distinctLabels.Count < Targets.MaxClasses)
                    {
                        distinctLabels.Add(label);
                    }
                }
                labels.Add(label);
                return;
            }
            if (!TryParseWhole(text, out var value)
                && !double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out value) && !IsNonFinite(text, out value))
            {
                throw new DatasetImportException(field, $"line {number}, column '{names[column]}': '{Shorten(text.ToString())}' is not a number. Feature columns must be numeric; "
                    + $"if this is the label column, set labelColumn to '{names[column]}'.");
            }
            if (!double.IsFinite(value) || Math.Abs(value) > float.MaxValue)
            {
                throw new DatasetImportException(field, $"line {number}, column '{names[column]}': {text} is not a finite 32-bit number; remove or impute it before importing.");
            }
            var single = (float)value;
            fitsInBytes &= single is >= 0 and <= 255 && single == MathF.Floor(single);
            row[feature++] = single;
        }

        DatasetImportException Ragged(int number, int count) => new(field,
            $"line {number} has {count} values but the {(hasHeader ? "header" : "first row")} has {names.Length}; every row needs the same number of columns.");
    }

    /// <summary>Whole numbers of up to 9 digits (pixel values, counts), parsed without the general number parser.</summary>
    private static bool TryParseWhole(ReadOnlySpan<char> text, out double value)
    {
        value = 0;
        var negative = text.Length > 1 && text[0] == '-';
        var digits = negative ? text[1..] : text;
        if (digits.Length is 0 or > 9)
        {
            return false;
        }
        var whole = 0;
        foreach (var c in digits)
        {
            if (c is < '0' or > '9')
            {
                return false;
            }
            whole = whole * 10 + (c - '0');
        }
        value = negative ? -whole : whole;
        return true;
    }

    /// <summary>How Python and pandas write NaN and infinity (nan, inf, -inf), so that they are reported as such.</summary>
    private static bool IsNonFinite(ReadOnlySpan<char> text, out double value)
    {
        value = text.TrimStart('+').ToString().ToLowerInvariant() switch
        {
            "nan" => double.NaN,
            "inf" or "infinity" => double.PositiveInfinity,
            "-inf" or "-infinity" => double.NegativeInfinity,
            _ => 0,
        };
        return !double.IsFinite(value);
    }

    private static string? ReadNonEmptyLine(LineReader reader, ref int lineNumber)
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

    /// <summary>Splits one line, honouring double-quoted fields ("a,b" and "" for a quote), into at most <paramref name="maxColumns"/> cells.</summary>
    private static string[] Split(string line, char delimiter, int maxColumns, int lineNumber, string field)
    {
        if (!line.Contains('"'))
        {
            var count = line.AsSpan().Count(delimiter) + 1;
            return count <= maxColumns ? line.Split(delimiter) : throw TooManyColumns(lineNumber, count, maxColumns, field);
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
                if (cells.Count + 1 == maxColumns)
                {
                    throw TooManyColumns(lineNumber, cells.Count + 2 + line.AsSpan(i + 1).Count(delimiter), maxColumns, field);
                }
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

    /// <summary>
    /// More cells than the limit (for a line with quotes, counted as if every delimiter separated cells).
    /// </summary>
    private static DatasetImportException TooManyColumns(int lineNumber, int count, int maxColumns, string field) => new(field, string.Create(CultureInfo.InvariantCulture,
        $"line {lineNumber} has {count} columns, more than the limit of {maxColumns} (set by Experiments:MaxCsvColumns); for that many features, save the data as NumPy arrays (.npy or .npz)."));

    /// <summary>
    /// Lines of text as <see cref="TextReader.ReadLine"/> cuts them (at \n, \r\n or \r), except that a line longer than
    /// the limit is refused as soon as the limit is passed, before more of it is read into memory.
    /// </summary>
    private sealed class LineReader(TextReader reader, int maxLength, string field)
    {
        private readonly char[] _buffer = new char[1 << 16];
        private readonly System.Text.StringBuilder _line = new();
        private int _start;
        private int _end;
        private bool _skipLineFeed;
        private int _lines;

        public string? ReadLine()
        {
            _line.Clear();
            var any = false;
            while (true)
            {
                if (_start == _end)
                {
                    _start = 0;
                    _end = reader.Read(_buffer, 0, _buffer.Length);
                    if (_end == 0)
                    {
                        return any ? Finish() : null;
                    }
                }
                if (_skipLineFeed)
                {
                    _skipLineFeed = false;
                    if (_buffer[_start] == '\n')
                    {
                        _start++;
                        continue;
                    }
                }
                any = true;
                var rest = _buffer.AsSpan(_start, _end - _start);
                var end = rest.IndexOfAny('\r', '\n');
                var taken = end < 0 ? rest.Length : end;
                if (_line.Length + taken > maxLength)
                {
                    throw new DatasetImportException(field, string.Create(CultureInfo.InvariantCulture,
                        $"line {_lines + 1} is longer than {maxLength} characters, the limit set by Experiments:MaxCsvLineLength; rows of a CSV file end with a line break (\\n or \\r\\n)."));
                }
                if (end < 0)
                {
                    _line.Append(rest);
                    _start = _end;
                    continue;
                }
                _skipLineFeed = rest[end] == '\r';
                _start += end + 1;
                if (_line.Length == 0)
                {
                    _lines++;
                    return new string(rest[..end]);
                }
                _line.Append(rest[..end]);
                return Finish();
            }
        }

        private string Finish()
        {
            _lines++;
            return _line.ToString();
        }
    }
}
