using System.Globalization;
using System.IO.Compression;
using System.Text;
using Experiments.Domain.Datasets;

namespace Experiments.Training.Data.Import;

/// <summary>
/// Turns an upload into a dataset: detect the format, parse, encode the labels, split, and convert into the
/// tensor file (<see cref="DatasetFile"/>) while computing statistics. A refused or failed conversion leaves no
/// file behind. Memory stays bounded by the labels and one chunk of samples.
/// </summary>
public static class DatasetConverter
{
    private const int ChunkValues = 1 << 20;

    /// <summary>
    /// Converts <paramref name="request"/> into <c>{id:N}.bin</c> in <paramref name="folder"/>, which also holds the
    /// import's temporary files; what it reads, decompresses and builds is bounded by <paramref name="limits"/>.
    /// </summary>
    /// <returns>The dataset described, not yet stored anywhere but in its tensor file.</returns>
    public static Dataset Convert(Guid id, DatasetImportRequest request, string contentHash, string folder, ImportLimits limits, TimeProvider time)
    {
        var tensorPath = Path.Combine(folder, $"{id:N}.bin");
        using var workspace = new ImportWorkspace(folder, limits);
        var source = Read(request, workspace);
        return Convert(id, request, source, contentHash, tensorPath, time);
    }

    private static DatasetSource Read(DatasetImportRequest request, ImportWorkspace workspace)
    {
        var main = Open(request.File, workspace);
        var format = request.Format ?? Detect(main, request.File);
        if (format is not (DatasetFormat.Npy or DatasetFormat.Idx) && (request.LabelsFile ?? request.TestLabelsFile) is { } extra)
        {
            throw new DatasetImportException(extra.Field, $"is for NumPy .npy and IDX uploads, where labels come in their own file; a {format} file holds its labels.");
        }
        if (format is DatasetFormat.Npz or DatasetFormat.Pickle && request.TestFile is { } test)
        {
            throw new DatasetImportException(test.Field, $"a {format} file holds its test split itself (e.g. x_test and y_test); send one file.");
        }
        return format switch
        {
            DatasetFormat.Csv => ReadCsv(request, main, workspace),
            DatasetFormat.Npz => ReadNpz(request, main, workspace),
            DatasetFormat.Pickle => PickleDataset.Read(main, request.Keys, workspace),
            _ => ReadPairs(request, format, main, workspace),
        };
    }

    /// <summary>Gzipped uploads (.gz, as the MNIST files come) are unpacked into the workspace, within the size limit.</summary>
    private static Stream Open(UploadedFile file, ImportWorkspace workspace)
    {
        Span<byte> start = stackalloc byte[2];
        file.Content.Position = 0;
        var read = file.Content.ReadAtLeast(start, 2, throwOnEndOfStream: false);
        file.Content.Position = 0;
        if (read < 2 || start[0] != 0x1f || start[1] != 0x8b)
        {
            return file.Content;
        }
        try
        {
            using var gzip = new GZipStream(file.Content, CompressionMode.Decompress, leaveOpen: true);
            return workspace.Decompress(gzip, file.Field, $"'{file.FileName}'");
        }
        catch (InvalidDataException corrupt)
        {
            throw new DatasetImportException(file.Field, $"'{file.FileName}' starts like a gzip file but cannot be decompressed: {corrupt.Message}");
        }
    }

    /// <summary>The format by the first bytes: NumPy magic, zip, pickle protocol 2–5, IDX, else text is CSV.</summary>
    private static DatasetFormat Detect(Stream content, UploadedFile file)
    {
        var start = new byte[4096];
        var read = content.ReadAtLeast(start, start.Length, throwOnEndOfStream: false);
        content.Position = 0;
        var head = start.AsSpan(0, read);
        if (NpyFormat.Matches(head))
        {
            return DatasetFormat.Npy;
        }
        if (head.StartsWith("PK\x03\x04"u8) || head.StartsWith("PK\x05\x06"u8))
        {
            return DatasetFormat.Npz;
        }
        if (head.Length >= 2 && head[0] == 0x80 && head[1] is >= 2 and <= 5)
        {
            return DatasetFormat.Pickle;
        }
        if (IdxFormat.Matches(head))
        {
            return DatasetFormat.Idx;
        }
        if (head.Length > 0 && LooksLikeText(head))
        {
            return DatasetFormat.Csv;
        }
        throw new DatasetImportException(file.Field, $"'{file.FileName}' is neither CSV/TSV text, a NumPy .npy or .npz file, a pickle (protocol 2 to 5) nor an IDX file "
            + "(gzipped or not). If it is one of them, say which with the field format (csv, npy, npz, pickle, idx).", ImportErrorKind.UnsupportedFormat);
    }

    /// <summary>Text has no control bytes other than tab, line feed, carriage return and escape.</summary>
    private static bool LooksLikeText(ReadOnlySpan<byte> head) =>
        head.IndexOfAnyInRange((byte)0x00, (byte)0x08) < 0 && head.IndexOfAnyInRange((byte)0x0e, (byte)0x1a) < 0 && head.IndexOfAnyInRange((byte)0x1c, (byte)0x1f) < 0;

    private static DatasetSource ReadCsv(DatasetImportRequest request, Stream main, ImportWorkspace workspace)
    {
        var (features, labels) = ReadCsvFile(main, request.Csv, workspace, request.File.Field);
        ArraySource? testFeatures = null;
        LabelSource? testLabels = null;
        if (request.TestFile is { } testFile)
        {
            (testFeatures, testLabels) = ReadCsvFile(Open(testFile, workspace), request.Csv, workspace, testFile.Field);
        }
        return new DatasetSource(DatasetFormat.Csv, "text", features, labels, testFeatures, testLabels);
    }

    private static (ArraySource, LabelSource) ReadCsvFile(Stream content, CsvImportOptions csv, ImportWorkspace workspace, string field)
    {
        using var reader = new StreamReader(content, Encoding.UTF8, detectEncodingFromByteOrderMarks: true, bufferSize: 1 << 16, leaveOpen: true);
        return CsvTable.Read(reader, csv, workspace, field);
    }

    private static DatasetSource ReadNpz(DatasetImportRequest request, Stream main, ImportWorkspace workspace)
    {
        using var archive = new NpzArchive(main, workspace);
        var keys = request.Keys.Resolve(archive.Names, "the .npz file");
        var features = archive.Read(keys.Features!);
        var labels = LabelSource.FromArray(archive.Read(keys.Labels!));
        ArraySource? testFeatures = null;
        LabelSource? testLabels = null;
        if (keys.TestFeatures is not null)
        {
            testFeatures = archive.Read(keys.TestFeatures);
            testLabels = LabelSource.FromArray(archive.Read(keys.TestLabels!));
        }
        return new DatasetSource(DatasetFormat.Npz, features.Type.Name, features, labels, testFeatures, testLabels);
    }

    /// <summary>.npy and IDX: features and labels in two files, optionally a test pair in two more.</summary>
    private static DatasetSource ReadPairs(DatasetImportRequest request, DatasetFormat format, Stream main, ImportWorkspace workspace)
    {
        ArraySource ReadArray(UploadedFile file, Stream content) => format == DatasetFormat.Npy
            ? NpyFormat.Read(content, file.FileName, file.Field, workspace)
            : IdxFormat.Read(content, file.FileName, file.Field);

        var labelsFile = request.LabelsFile ?? throw new DatasetImportException("labelsFile",
            $"is required with a {format} file: send the labels as a second file (curl -F file=@x.{(format == DatasetFormat.Npy ? "npy" : "idx")} -F labelsFile=@y.{(format == DatasetFormat.Npy ? "npy" : "idx")}).");
        if ((request.TestFile is null) != (request.TestLabelsFile is null))
        {
            throw new DatasetImportException(request.TestFile is null ? "testFile" : "testLabelsFile", "send testFile and testLabelsFile together, or neither.");
        }
        var features = ReadArray(request.File, main);
        var labels = LabelSource.FromArray(ReadArray(labelsFile, Open(labelsFile, workspace)));
        ArraySource? testFeatures = null;
        LabelSource? testLabels = null;
        if (request.TestFile is { } testFile)
        {
            testFeatures = ReadArray(testFile, Open(testFile, workspace));
            testLabels = LabelSource.FromArray(ReadArray(request.TestLabelsFile!, Open(request.TestLabelsFile!, workspace)));
        }
        return new DatasetSource(format, features.Type.Name, features, labels, testFeatures, testLabels);
    }

    private static Dataset Convert(Guid id, DatasetImportRequest request, DatasetSource source, string hash, string tensorPath, TimeProvider time)
    {
        CheckCounts(source.TrainFeatures, source.TrainLabels);
        if (source.TestFeatures is not null)
        {
            CheckCounts(source.TestFeatures, source.TestLabels!);
            if (!source.TestFeatures.SampleShape.SequenceEqual(source.TrainFeatures.SampleShape))
            {
                throw new DatasetImportException(source.TestFeatures.Field, $"test samples have shape {Shape(source.TestFeatures.SampleShape)}, training samples {Shape(source.TrainFeatures.SampleShape)}.");
            }
        }
        var labelSources = source.TestLabels is null ? new[] { source.TrainLabels } : [source.TrainLabels, source.TestLabels];
        var targets = Targets.Encode(labelSources, request.Task);
        var storedShape = source.TrainFeatures.SampleShape;
        var sampleShape = CheckPreprocessing(request.Preprocessing, storedShape);

        int[] trainRows, testRows;
        if (source.TestFeatures is null)
        {
            (trainRows, testRows) = targets.Task == DatasetTask.Classification
                ? StratifiedSplit(targets.Classes[0], targets.ClassNames.Length, request.Split)
                : RandomSplit(targets.Values[0].Length / targets.TargetSize, request.Split);
        }
        else
        {
            trainRows = Enumerable.Range(0, (int)source.TrainFeatures.Count).ToArray();
            testRows = Enumerable.Range(0, (int)source.TestFeatures.Count).ToArray();
        }
        var testSource = source.TestFeatures is null ? 0 : 1;
        var testFeatures = source.TestFeatures ?? source.TrainFeatures;

        var featureType = source.TrainFeatures.FitsInBytes && testFeatures.FitsInBytes ? FeatureType.UInt8 : FeatureType.Float32;
        var header = new DatasetFileHeader(storedShape, featureType, targets.Kind, targets.TargetSize, trainRows.Length, testRows.Length);
        var statistics = new Accumulator(source.TrainFeatures.RowLength, request.Preprocessing.Standardize);
        using (var writer = new DatasetFileWriter(tensorPath, header))
        {
            WriteFeatures(writer, source.TrainFeatures, trainRows, statistics);
            WriteTargets(writer, targets, 0, trainRows);
            WriteFeatures(writer, testFeatures, testRows, null);
            WriteTargets(writer, targets, testSource, testRows);
            writer.Commit();
        }
        try
        {
            var classCounts = new int[targets.ClassNames.Length];
            foreach (var classes in targets.Classes)
            {
                foreach (var label in classes)
                {
                    classCounts[label]++;
                }
            }
            FeatureStatistics? targetStatistics = null;
            if (targets.Task == DatasetTask.Regression)
            {
                var targetAccumulator = new Accumulator(targets.TargetSize, false);
                var values = targets.Values[0];
                foreach (var row in trainRows)
                {
                    targetAccumulator.Add(values.AsSpan(row * targets.TargetSize, targets.TargetSize));
                }
                targetStatistics = targetAccumulator.Describe();
            }
            var preprocessing = DatasetPreprocessing.Fit(request.Preprocessing, statistics.FeatureMean(), statistics.FeatureStd());
            var heldOut = source.TestFeatures is null;
            return new Dataset(id, request.Name, source.Format, sampleShape, targets.ClassNames, classCounts, trainRows.Length, testRows.Length,
                statistics.Describe(), hash, Path.GetFileName(tensorPath), time.GetUtcNow(), targets.Task, targets.TargetSize, targetStatistics,
                source.Dtype, storedShape, preprocessing, heldOut ? SplitSource.HeldOut : SplitSource.File,
                heldOut ? request.Split.TestFraction : null, heldOut ? request.Split.Seed : null, request.File.FileName, new FileInfo(tensorPath).Length);
        }
        catch
        {
            File.Delete(tensorPath);
            throw;
        }
    }

    private static void CheckCounts(ArraySource features, LabelSource labels)
    {
        if (features.Count == 0)
        {
            throw new DatasetImportException(features.Field, $"'{features.Name}' has no samples.");
        }
        if (features.Count != labels.Count)
        {
            throw new DatasetImportException(labels.Field, $"'{features.Name}' has {features.Count} samples but '{labels.Name}' has {labels.Count} labels; they must be the same length.");
        }
        if (features.Count > int.MaxValue)
        {
            throw new DatasetImportException(features.Field, $"'{features.Name}' has {features.Count} samples; at most {int.MaxValue} are supported.");
        }
    }

    /// <summary>Checks the requested steps against the samples; returns the shape the model sees.</summary>
    private static int[] CheckPreprocessing(Preprocessing preprocessing, int[] storedShape)
    {
        if (preprocessing.Reshape is not { } reshape)
        {
            return storedShape;
        }
        var values = storedShape.Aggregate(1L, (product, dimension) => product * dimension);
        var reshaped = reshape.Aggregate(1L, (product, dimension) => product * dimension);
        if (reshaped != values)
        {
            throw new DatasetImportException("reshape", $"{Shape(reshape)} holds {reshaped} values, but a sample of shape {Shape(storedShape)} has {values}.");
        }
        return reshape;
    }

    private static void WriteFeatures(DatasetFileWriter writer, ArraySource features, int[] rows, Accumulator? statistics)
    {
        var rowLength = features.RowLength;
        var chunkRows = Math.Max(1, ChunkValues / Math.Max(1, rowLength));
        var buffer = new float[chunkRows * rowLength];
        for (var i = 0; i < rows.Length;)
        {
            var first = rows[i];
            var run = 1;
            while (i + run < rows.Length && run < chunkRows && rows[i + run] == first + run)
            {
                run++;
            }
            var values = buffer.AsSpan(0, run * rowLength);
            features.ReadRows(first, run, values);
            var bad = IndexOfNonFinite(values);
            if (bad >= 0)
            {
                var sample = first + bad / rowLength;
                throw new DatasetImportException(features.Field, string.Create(CultureInfo.InvariantCulture,
                    $"'{features.Name}' sample {sample}, value {Index(bad % rowLength, features.SampleShape)} is {values[bad]} (as float32); NaN and infinite values cannot be trained on. Remove or impute them before importing."));
            }
            statistics?.Add(values);
            writer.WriteFeatures(values);
            i += run;
        }
    }

    private static int IndexOfNonFinite(ReadOnlySpan<float> values)
    {
        for (var i = 0; i < values.Length; i++)
        {
            if (!float.IsFinite(values[i]))
            {
                return i;
            }
        }
        return -1;
    }

    private static void WriteTargets(DatasetFileWriter writer, Targets targets, int source, int[] rows)
    {
        if (targets.Kind == TargetKind.ClassIndex)
        {
            var classes = targets.Classes[source];
            writer.WriteClassIndices(rows.Select(row => classes[row]).ToArray());
            return;
        }
        var values = targets.Values[source];
        var size = targets.TargetSize;
        var gathered = new float[rows.Length * size];
        for (var i = 0; i < rows.Length; i++)
        {
            values.AsSpan(rows[i] * size, size).CopyTo(gathered.AsSpan(i * size));
        }
        writer.WriteValues(gathered);
    }

    /// <summary>A stratified, seeded split: each class keeps its share in both splits; rows stay in file order.</summary>
    private static (int[] Train, int[] Test) StratifiedSplit(long[] labels, int classCount, SplitOptions options)
    {
        var byClass = new List<int>[classCount];
        for (var row = 0; row < labels.Length; row++)
        {
            (byClass[labels[row]] ??= []).Add(row);
        }
        var random = new Random(options.Seed);
        var test = new List<int>();
        var train = new List<int>();
        foreach (var rows in byClass.Where(rows => rows is not null).Select(rows => rows.ToArray()))
        {
            random.Shuffle(rows);
            var testCount = (int)Math.Round(rows.Length * options.TestFraction, MidpointRounding.AwayFromZero);
            if (testCount == rows.Length && rows.Length > 1)
            {
                testCount--;
            }
            test.AddRange(rows[..testCount]);
            train.AddRange(rows[testCount..]);
        }
        return Finish(train, test, labels.Length, options);
    }

    private static (int[] Train, int[] Test) RandomSplit(int count, SplitOptions options)
    {
        var rows = Enumerable.Range(0, count).ToArray();
        new Random(options.Seed).Shuffle(rows);
        var testCount = (int)Math.Round(count * options.TestFraction, MidpointRounding.AwayFromZero);
        return Finish([.. rows[testCount..]], [.. rows[..testCount]], count, options);
    }

    private static (int[] Train, int[] Test) Finish(List<int> train, List<int> test, int count, SplitOptions options)
    {
        if (test.Count == 0 || train.Count == 0)
        {
            throw new DatasetImportException("testFraction", string.Create(CultureInfo.InvariantCulture,
                $"a test fraction of {options.TestFraction} of {count} samples leaves {(test.Count == 0 ? "no test" : "no training")} samples; choose a fraction that keeps both splits non-empty."));
        }
        train.Sort();
        test.Sort();
        return ([.. train], [.. test]);
    }

    private static string Shape(IEnumerable<int> shape) => "[" + string.Join(", ", shape) + "]";

    private static string Index(int flat, int[] shape)
    {
        var index = new int[shape.Length];
        for (var d = shape.Length - 1; d >= 0; d--)
        {
            index[d] = flat % shape[d];
            flat /= shape[d];
        }
        return Shape(index);
    }

    /// <summary>Min, max, mean and std over all values, and per position within a sample when asked.</summary>
    private sealed class Accumulator(int rowLength, bool perFeature)
    {
        private readonly double[] _sum = perFeature ? new double[rowLength] : [];
        private readonly double[] _sumOfSquares = perFeature ? new double[rowLength] : [];
        private double _min = double.PositiveInfinity;
        private double _max = double.NegativeInfinity;
        private double _total;
        private double _totalOfSquares;
        private long _count;

        public void Add(ReadOnlySpan<float> values)
        {
            for (var i = 0; i < values.Length; i++)
            {
                double value = values[i];
                _min = Math.Min(_min, value);
                _max = Math.Max(_max, value);
                _total += value;
                _totalOfSquares += value * value;
            }
            if (perFeature)
            {
                for (var i = 0; i < values.Length; i++)
                {
                    var j = i % rowLength;
                    _sum[j] += values[i];
                    _sumOfSquares[j] += (double)values[i] * values[i];
                }
            }
            _count += values.Length;
        }

        public FeatureStatistics Describe()
        {
            var mean = _total / _count;
            var variance = Math.Max(0, _totalOfSquares / _count - mean * mean);
            // Values are float32: report min and max as the numbers the file held (0.1, not 0.100000001).
            return new FeatureStatistics((double)(decimal)(float)_min, (double)(decimal)(float)_max, mean, Math.Sqrt(variance));
        }

        public double[] FeatureMean()
        {
            var samples = (double)_count / rowLength;
            return _sum.Select(sum => sum / samples).ToArray();
        }

        public double[] FeatureStd()
        {
            var samples = (double)_count / rowLength;
            return _sumOfSquares.Select((sumOfSquares, j) => Math.Sqrt(Math.Max(0, sumOfSquares / samples - Math.Pow(_sum[j] / samples, 2)))).ToArray();
        }
    }
}
