using System.Text;
using Experiments.Domain.Datasets;
using Experiments.Tests.Support;
using Experiments.Training.Data;
using Experiments.Training.Data.Import;

namespace Experiments.Tests.Training.Data;

/// <summary>Each format converts into the dataset's description and the tensor file the trainer reads.</summary>
public sealed class DatasetConverterTests : IDisposable
{
    private const long MaxBytes = 1L << 30;
    private readonly TemporaryFolder _folder = new();

    [Fact]
    public async Task Iris_csv_is_described_with_its_classes_histogram_split_and_statistics()
    {
        var dataset = await ImportAsync(Upload("iris.csv", await File.ReadAllBytesAsync(Workflow.IrisPath)) with { Name = "iris" });

        Assert.Equal(DatasetFormat.Csv, dataset.Format);
        Assert.Equal(DatasetTask.Classification, dataset.Task);
        Assert.Equal("text", dataset.Dtype);
        Assert.Equal(["setosa", "versicolor", "virginica"], dataset.ClassNames);
        Assert.Equal([50, 50, 50], dataset.ClassCounts);
        Assert.Equal((120, 30), (dataset.TrainCount, dataset.TestCount));
        Assert.Equal((SplitSource.HeldOut, 0.2, 0), (dataset.SplitSource, dataset.TestFraction, dataset.SplitSeed));
        // Statistics describe the training split: 7.9 is in the held-out test split.
        Assert.Equal((0.1, 7.7), (dataset.Statistics.Min, dataset.Statistics.Max));
        Assert.Equal(64, dataset.ContentHash.Length);
        Assert.Equal("iris.csv", dataset.FileName);
    }

    [Fact]
    public async Task A_headerless_tsv_with_text_labels_first_maps_the_labels_to_sorted_classes()
    {
        var tsv = "dog\t1\t2\ncat\t3\t4\ndog\t5\t6\nbird\t7\t8\ncat\t9\t10\nbird\t11\t12\n";

        var dataset = await ImportAsync(Upload("pets.tsv", Encoding.UTF8.GetBytes(tsv)) with { Csv = new CsvImportOptions("0", null, null), Split = new SplitOptions(0.34, 0) });

        Assert.Equal(["bird", "cat", "dog"], dataset.ClassNames);
        Assert.Equal([2, 2, 2], dataset.ClassCounts);
        Assert.Equal([2], dataset.SampleShape);
        Assert.Equal((3, 3), (dataset.TrainCount, dataset.TestCount));
        Assert.Equal(FeatureType.UInt8, DatasetFile.ReadHeader(TensorPath(dataset)).FeatureType);
    }

    [Fact]
    public async Task A_csv_with_its_own_test_file_keeps_that_split_and_maps_labels_across_both()
    {
        var train = "a;b;kind\n1;2;x\n3;4;y\n5;6;x\n";
        var test = "a;b;kind\n7;8;z\n";

        var dataset = await ImportAsync(Upload(
            [("file", "train.csv", Encoding.UTF8.GetBytes(train)), ("testFile", "test.csv", Encoding.UTF8.GetBytes(test))]));

        Assert.Equal((SplitSource.File, 3, 1), (dataset.SplitSource, dataset.TrainCount, dataset.TestCount));
        Assert.Equal(["x", "y", "z"], dataset.ClassNames);
        Assert.Equal([2, 1, 1], dataset.ClassCounts);
    }

    [Fact]
    public async Task Non_integer_csv_labels_make_a_regression_dataset_with_target_statistics()
    {
        var csv = "x1,x2,y\n" + string.Join("\n", Enumerable.Range(0, 20).Select(i => $"{i},{i * 0.5},{i * 1.5 + 0.25}"));

        var dataset = await ImportAsync(Upload("line.csv", Encoding.UTF8.GetBytes(csv)));

        Assert.Equal(DatasetTask.Regression, dataset.Task);
        Assert.Empty(dataset.ClassNames);
        Assert.Equal(1, dataset.TargetSize);
        Assert.NotNull(dataset.TargetStatistics);
        Assert.Equal((16, 4), (dataset.TrainCount, dataset.TestCount));
        var (_, train, _) = DatasetFile.Read(TensorPath(dataset));
        Assert.Equal(TargetKind.Values, train.Kind);
        Assert.All(Enumerable.Range(0, train.Count), i => Assert.Equal(train.Sample(i)[0] * 1.5f + 0.25f, train.Values[i], 3));
    }

    [Fact]
    public async Task Integer_labels_become_regression_when_the_task_says_so()
    {
        var csv = "x,y\n" + string.Join("\n", Enumerable.Range(0, 10).Select(i => $"{i},{i * 2}"));

        var dataset = await ImportAsync(Upload("ints.csv", Encoding.UTF8.GetBytes(csv)) with { Task = DatasetTask.Regression });

        Assert.Equal(DatasetTask.Regression, dataset.Task);
        Assert.Equal(0, dataset.TargetStatistics!.Min);
        Assert.Equal(18, dataset.TargetStatistics.Max);
    }

    [Fact]
    public async Task A_compressed_npz_with_train_and_test_arrays_keeps_its_split_bytes_and_preprocessing()
    {
        var (trainImages, trainLabels) = DatasetFiles.Images(30, 6, seed: 1);
        var (testImages, testLabels) = DatasetFiles.Images(9, 6, seed: 2);
        var npz = DatasetFiles.Npz(compressed: true,
            ("x_train", DatasetFiles.Npy(trainImages, 30, 6, 6)), ("y_train", DatasetFiles.Npy(trainLabels, 30)),
            ("x_test", DatasetFiles.Npy(testImages, 9, 6, 6)), ("y_test", DatasetFiles.Npy(testLabels, 9)));

        var dataset = await ImportAsync(Upload("digits.npz", npz) with { Preprocessing = new Preprocessing(1 / 255.0, false, [1, 6, 6], null, null) });

        Assert.Equal(DatasetFormat.Npz, dataset.Format);
        Assert.Equal("uint8", dataset.Dtype);
        Assert.Equal([1, 6, 6], dataset.SampleShape);
        Assert.Equal([6, 6], dataset.StoredSampleShape);
        Assert.Equal((SplitSource.File, 30, 9), (dataset.SplitSource, dataset.TrainCount, dataset.TestCount));
        Assert.Equal(["0", "1", "2"], dataset.ClassNames);
        Assert.Equal([13, 13, 13], dataset.ClassCounts);
        Assert.Equal((1 / 255.0, false), (dataset.Preprocessing.Scale, dataset.Preprocessing.Standardize));
        Assert.Equal([1, 6, 6], dataset.Preprocessing.Reshape!);
        Assert.Equal(trainImages.Min(), dataset.Statistics.Min);
        Assert.Equal(trainImages.Max(), dataset.Statistics.Max);
        Assert.Equal(trainImages.Average(b => (double)b), dataset.Statistics.Mean, 6);
        var header = DatasetFile.ReadHeader(TensorPath(dataset));
        Assert.Equal(FeatureType.UInt8, header.FeatureType);
        AssertStoredImages(dataset, trainImages, testLabels);
    }

    [Fact]
    public async Task An_uncompressed_npz_of_x_and_y_float64_is_split_with_a_seed()
    {
        var x = Enumerable.Range(0, 40 * 3).Select(i => i * 0.1).ToArray();
        var y = Enumerable.Range(0, 40).Select(i => (double)(i % 2)).ToArray();
        var npz = DatasetFiles.Npz(compressed: false, ("x", DatasetFiles.Npy("<f8", [40, 3], DatasetFiles.Encode("<f8", x))), ("y", DatasetFiles.Npy("<f8", [40], DatasetFiles.Encode("<f8", y))));

        var first = await ImportAsync(Upload("xy.npz", npz) with { Split = new SplitOptions(0.25, 5) });

        Assert.Equal(("float64", DatasetTask.Classification), (first.Dtype, first.Task));
        Assert.Equal((30, 10, SplitSource.HeldOut, 5), (first.TrainCount, first.TestCount, first.SplitSource, first.SplitSeed));
        Assert.Equal([20, 20], first.ClassCounts);
    }

    [Theory]
    [InlineData("<f2")]
    [InlineData("<f4")]
    [InlineData("<f8")]
    [InlineData(">f8")]
    [InlineData("|i1")]
    [InlineData("<i2")]
    [InlineData("<i4")]
    [InlineData("<i8")]
    [InlineData("|u1")]
    [InlineData("<u2")]
    [InlineData("|b1")]
    public async Task An_npy_pair_of_every_dtype_imports_the_values_exactly(string descr)
    {
        var values = Enumerable.Range(0, 24 * 2).Select(i => descr.EndsWith("b1", StringComparison.Ordinal) ? i % 2 : (double)(i % 7)).ToArray();
        var labels = Enumerable.Range(0, 24).Select(i => (long)(i % 2)).ToArray();

        var dataset = await ImportAsync(Upload(
            [("file", "x.npy", DatasetFiles.Npy(descr, [24, 2], DatasetFiles.Encode(descr, values))), ("labelsFile", "y.npy", DatasetFiles.Npy(labels, 24))]));

        Assert.Equal(DatasetFormat.Npy, dataset.Format);
        Assert.Equal(descr switch { "|b1" => "bool", _ => NumericType.FromNumpy(descr)!.Name }, dataset.Dtype);
        var (_, train, test) = DatasetFile.Read(TensorPath(dataset));
        Assert.Equal(48, train.Features.Length + test.Features.Length);
        Assert.Equal(values.Sum(), DatasetFiles.FeaturesAsFloats(train).Sum() + DatasetFiles.FeaturesAsFloats(test).Sum(), 6);
    }

    [Fact]
    public async Task A_fortran_ordered_npy_is_read_in_the_right_order()
    {
        // 5 samples of 2×3: element (i, r, c) = 100 i + 10 r + c, written column-major.
        var fortran = new List<float>();
        for (var c = 0; c < 3; c++)
        {
            for (var r = 0; r < 2; r++)
            {
                for (var i = 0; i < 5; i++)
                {
                    fortran.Add(100 * i + 10 * r + c);
                }
            }
        }
        var bytes = System.Runtime.InteropServices.MemoryMarshal.AsBytes(fortran.ToArray().AsSpan()).ToArray();

        var dataset = await ImportAsync(Upload(
            [("file", "f.npy", DatasetFiles.Npy("<f4", [5, 2, 3], bytes, fortran: true)), ("labelsFile", "y.npy", DatasetFiles.Npy(new long[] { 0, 1, 0, 1, 0 }, 5)),
             ("testFile", "tf.npy", DatasetFiles.Npy(new float[6], 1, 2, 3)), ("testLabelsFile", "ty.npy", DatasetFiles.Npy(new long[] { 1 }, 1))]));

        Assert.Equal([2, 3], dataset.SampleShape);
        var (_, train, _) = DatasetFile.Read(TensorPath(dataset));
        var expected = Enumerable.Range(0, 5).SelectMany(i => Enumerable.Range(0, 2).SelectMany(r => Enumerable.Range(0, 3).Select(c => (float)(100 * i + 10 * r + c))));
        Assert.Equal(expected, DatasetFiles.FeaturesAsFloats(train));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Idx_images_and_labels_import_raw_or_gzipped_with_their_test_files(bool gzipped)
    {
        var (trainImages, trainLabels) = DatasetFiles.Images(24, 6, seed: 3);
        var (testImages, testLabels) = DatasetFiles.Images(6, 6, seed: 4);
        byte[] Pack(byte[] bytes) => gzipped ? DatasetFiles.Gzip(bytes) : bytes;

        var dataset = await ImportAsync(Upload(
        [
            ("file", "train-images-idx3-ubyte", Pack(DatasetFiles.Idx(0x08, [24, 6, 6], trainImages))),
            ("labelsFile", "train-labels-idx1-ubyte", Pack(DatasetFiles.Idx(0x08, [24], trainLabels))),
            ("testFile", "t10k-images-idx3-ubyte", Pack(DatasetFiles.Idx(0x08, [6, 6, 6], testImages))),
            ("testLabelsFile", "t10k-labels-idx1-ubyte", Pack(DatasetFiles.Idx(0x08, [6], testLabels))),
            ]));

        Assert.Equal((DatasetFormat.Idx, "uint8"), (dataset.Format, dataset.Dtype));
        Assert.Equal([6, 6], dataset.SampleShape);
        Assert.Equal((24, 6, SplitSource.File), (dataset.TrainCount, dataset.TestCount, dataset.SplitSource));
        AssertStoredImages(dataset, trainImages, testLabels);
    }

    [Fact]
    public async Task Idx_float32_big_endian_features_are_decoded()
    {
        var values = Enumerable.Range(0, 12 * 2).Select(i => i * 0.5f).ToArray();
        var bigEndian = values.SelectMany(v => BitConverter.GetBytes(v).Reverse()).ToArray();

        var dataset = await ImportAsync(Upload(
            [("file", "x.idx", DatasetFiles.Idx(0x0D, [12, 2], bigEndian)), ("labelsFile", "y.idx", DatasetFiles.Idx(0x08, [12], Enumerable.Range(0, 12).Select(i => (byte)(i % 2)).ToArray()))]));

        Assert.Equal("float32", dataset.Dtype);
        var (_, train, test) = DatasetFile.Read(TensorPath(dataset));
        Assert.Equal(values.Sum(), train.Features.Floats.Sum() + test.Features.Floats.Sum(), 4);
    }

    public static TheoryData<string> Pickles() =>
    [
        "lists-protocol2.pkl", "lists-protocol4.pkl", "lists-protocol5.pkl", "lists-protocol4.pkl.gz",
        "numpy1-protocol2.pkl", "numpy1-protocol3.pkl", "numpy1-protocol4.pkl", "numpy1-protocol5.pkl",
        "numpy2-protocol2.pkl", "numpy2-protocol3.pkl", "numpy2-protocol4.pkl", "numpy2-protocol5.pkl",
        "numpy1-fortran-protocol2.pkl", "numpy1-fortran-protocol5.pkl", "numpy2-fortran-protocol2.pkl", "numpy2-fortran-protocol5.pkl",
        "numpy1-scalars-protocol2.pkl", "numpy1-scalars-protocol4.pkl", "numpy2-scalars-protocol2.pkl", "numpy2-scalars-protocol4.pkl",
    ];

    [Theory]
    [MemberData(nameof(Pickles))]
    public async Task Pickles_of_lists_and_of_numpy_arrays_as_numpy_1_and_2_write_them_import_the_same_samples(string fixture)
    {
        var dataset = await ImportAsync(Upload(fixture, await File.ReadAllBytesAsync(DatasetFiles.FixturePath(fixture))));

        Assert.Equal(DatasetFormat.Pickle, dataset.Format);
        Assert.Equal((30, 12, SplitSource.File), (dataset.TrainCount, dataset.TestCount, dataset.SplitSource));
        Assert.Equal([4], dataset.SampleShape);
        Assert.Equal(["0", "1", "2"], dataset.ClassNames);
        Assert.Equal([14, 14, 14], dataset.ClassCounts);
        Assert.Equal(fixture.StartsWith("numpy", StringComparison.Ordinal) ? "float32" : "float64", dataset.Dtype);
        var (_, train, test) = DatasetFile.Read(TensorPath(dataset));
        Assert.Equal(Enumerable.Range(0, 30).SelectMany(i => Row(i, test: false)), train.Features.Floats);
        Assert.Equal(Enumerable.Range(0, 30).Select(i => (long)(i % 3)), train.Labels);
        Assert.Equal(Enumerable.Range(0, 12).SelectMany(i => Row(i, test: true)), test.Features.Floats);
        Assert.Equal(Enumerable.Range(0, 12).Select(i => (long)(i % 3)), test.Labels);
    }

    [Fact]
    public async Task Standardize_stores_the_training_splits_per_feature_mean_and_std()
    {
        var csv = "a,b,label\n" + string.Join("\n", Enumerable.Range(0, 20).Select(i => $"{i},{100 + (i % 2) * 10},{i % 2}"));

        var dataset = await ImportAsync(Upload("std.csv", Encoding.UTF8.GetBytes(csv)) with { Preprocessing = new Preprocessing(0.5, true, null, null, null) });

        Assert.True(dataset.Preprocessing.Standardize);
        var (_, train, _) = DatasetFile.Read(TensorPath(dataset));
        var a = Enumerable.Range(0, train.Count).Select(i => train.Sample(i)[0] * 0.5).ToArray();
        Assert.Equal(a.Average(), dataset.Preprocessing.Mean![0], 4);
        Assert.Equal(Math.Sqrt(a.Select(v => Math.Pow(v - a.Average(), 2)).Average()), dataset.Preprocessing.Std![0], 4);
    }

    internal static IEnumerable<float> Row(int i, bool test)
    {
        var label = i % 3;
        return Enumerable.Range(0, 4).Select(j => (float)(label * 2.0 + (test ? (i * 5 + j) % 4 : (i * 7 + j * 3) % 5) * 0.25));
    }

    private static DatasetImportRequest Upload(params (string Field, string FileName, byte[] Content)[] files) => DatasetFiles.Request(files);

    private static DatasetImportRequest Upload(string fileName, byte[] content) => Upload(("file", fileName, content));

    private async Task<Dataset> ImportAsync(DatasetImportRequest request)
    {
        var hash = await request.ContentHashAsync(CancellationToken.None);
        return DatasetConverter.Convert(Guid.NewGuid(), request, hash, _folder.Path, new ImportLimits(MaxBytes), TimeProvider.System);
    }

    /// <summary>The tensor file holds the training images' bytes as bytes and the test labels as class indices.</summary>
    private void AssertStoredImages(Dataset dataset, byte[] trainImages, byte[] testLabels)
    {
        var (_, train, test) = DatasetFile.Read(TensorPath(dataset));
        Assert.Equal(trainImages, train.Features.Bytes);
        Assert.Equal(testLabels.Select(b => (long)b), test.Labels);
    }

    private string TensorPath(Dataset dataset) => _folder.File(dataset.TensorFile);

    public void Dispose() => _folder.Dispose();
}
