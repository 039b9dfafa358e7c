using System.Text;
using Experiments.Domain.Datasets;
using Experiments.Tests.Support;
using Experiments.Training;
using Experiments.Training.Data;
using static TorchSharp.torch;

namespace Experiments.Tests.Training.Data;

[Collection(OneAtATime.Name)]
public sealed class DataTests
{
    [Fact]
    public void Byte_features_are_stored_in_one_byte_and_read_back_as_bytes_whole_and_by_sample()
    {
        var path = Path.Combine(Path.GetTempPath(), $"{Guid.NewGuid():N}.bin");
        try
        {
            var header = new DatasetFileHeader([2, 2], FeatureType.UInt8, TargetKind.ClassIndex, 1, 3, 1);
            using (var writer = new DatasetFileWriter(path, header))
            {
                writer.WriteFeatures([0, 1, 2, 3, 10, 11, 12, 13, 250, 251, 252, 255]);
                writer.WriteClassIndices([0, 1, 2]);
                writer.WriteFeatures([7, 7, 7, 7]);
                writer.WriteClassIndices([1]);
                writer.Commit();
            }

            // Header (magic, rank, 2 dimensions, feature type, target kind, target size, counts), 16 bytes of features, 4 int64 labels.
            Assert.Equal(8 + 4 + 8 + 1 + 1 + 4 + 8 + 8 + 12 + 24 + 4 + 8, new FileInfo(path).Length);
            var (shape, train, test) = DatasetFile.Read(path);
            Assert.Equal([2, 2], shape);
            Assert.Equal((FeatureType.UInt8, 4), (train.Features.Type, train.SampleSize));
            Assert.Equal([0, 1, 2, 3, 10, 11, 12, 13, 250, 251, 252, 255], train.Features.Bytes);
            Assert.Empty(train.Features.Floats);
            Assert.Equal([250f, 251, 252, 255], train.Sample(2));
            Assert.Equal([1L], test.Labels);
            var second = DatasetFile.ReadSamples(path, testSplit: false, start: 1, count: 2);
            Assert.Equal([10, 11, 12, 13, 250, 251, 252, 255], second.Features.Bytes);
            Assert.Equal([1L, 2], second.Labels);
            Assert.Equal([7, 7, 7, 7], DatasetFile.ReadSamples(path, testSplit: true, 0, 1).Features.Bytes);
            var (_, rows) = DatasetFile.ReadRows(path, testSplit: false, [2, 0]);
            Assert.Equal([250, 251, 252, 255, 0, 1, 2, 3], rows.Features.Bytes);
            Assert.Equal([2L, 0], rows.Labels);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void A_writer_disposed_without_commit_leaves_no_file()
    {
        var path = Path.Combine(Path.GetTempPath(), $"{Guid.NewGuid():N}.bin");
        using (var writer = new DatasetFileWriter(path, new DatasetFileHeader([1], FeatureType.Float32, TargetKind.ClassIndex, 1, 1, 0)))
        {
            writer.WriteFeatures([1f]);
        }

        Assert.False(File.Exists(path));
        Assert.False(File.Exists(path + ".partial"));
    }

    [Fact]
    public void Files_of_the_first_version_are_still_read()
    {
        var path = Path.Combine(Path.GetTempPath(), $"{Guid.NewGuid():N}.bin");
        try
        {
            using (var writer = new BinaryWriter(File.Create(path)))
            {
                writer.Write(Encoding.ASCII.GetBytes("EXPDS001"));
                writer.Write(1);
                writer.Write(2);
                writer.Write((byte)TargetKind.ClassIndex);
                writer.Write(1);
                writer.Write(1L);
                writer.Write(0L);
                writer.Write(1.5f);
                writer.Write(2.5f);
                writer.Write(3L);
            }

            var (shape, train, _) = DatasetFile.Read(path);

            Assert.Equal([2], shape);
            Assert.Equal([1.5f, 2.5f], train.Features.Floats);
            Assert.Equal([3L], train.Labels);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Preprocessing_scales_then_standardizes_with_the_fitted_numbers_then_reshapes()
    {
        // Training features of two positions: scaled by 0.5 they have means 1 and 10, stds 1 and 0 (constant).
        var fitted = DatasetPreprocessing.Fit(new Preprocessing(0.5, true, [1, 2], null, null), [2, 20], [2, 0]);
        Assert.Equal([1f, 10f], fitted.Mean!);
        Assert.Equal([1f, 1f], fitted.Std!);

        using var preprocessor = new FeaturePreprocessor(fitted, [2], CPU);
        using var scope = NewDisposeScope();
        var prepared = preprocessor.Apply(tensor(new float[] { 0, 20, 4, 20, 6, 18 }, [3, 2]));

        Assert.Equal([1, 2], preprocessor.SampleShape);
        Assert.Equal([3L, 1, 2], prepared.shape);
        Assert.Equal(ScalarType.Float32, prepared.dtype);
        Assert.Equal([-1f, 0, 1, 0, 2, -1], prepared.data<float>().ToArray());
    }

    [Fact]
    public void No_preprocessing_leaves_features_and_shape_as_stored_and_only_widens_bytes()
    {
        using var preprocessor = new FeaturePreprocessor(Preprocessing.None, [3], CPU);
        using var scope = NewDisposeScope();

        Assert.Equal([3], preprocessor.SampleShape);
        Assert.Equal([1f, 2, 3], preprocessor.Apply(tensor(new float[] { 1, 2, 3 }, [1, 3])).data<float>().ToArray());
        var widened = preprocessor.Apply(tensor(new byte[] { 0, 128, 255 }, [1, 3]));
        Assert.Equal(ScalarType.Float32, widened.dtype);
        Assert.Equal([0f, 128, 255], widened.data<float>().ToArray());
    }

    [Fact]
    public void The_loader_visits_every_sample_once_per_epoch_in_a_seeded_order_and_gathers_matching_rows()
    {
        var features = Enumerable.Range(0, 10).SelectMany(i => new[] { (float)i, i * 10f }).ToArray();
        var labels = Enumerable.Range(0, 10).Select(i => (long)i).ToArray();
        using var split = TensorSplit.From(DatasetArrays.Classification(StoredFeatures.Float32(features), labels), [2], Preprocessing.None, CPU);

        List<long> Epoch(long seed)
        {
            using var loader = new BatchLoader(split, batchSize: 4, shuffle: true, seed);
            loader.StartEpoch();
            var order = new List<long>();
            for (var b = 0; b < loader.BatchCount; b++)
            {
                using var scope = NewDisposeScope();
                var (inputs, targets) = loader.Batch(b);
                var ids = targets.data<long>().ToArray();
                Assert.Equal(ids.SelectMany(i => new[] { (float)i, i * 10f }), inputs.data<float>().ToArray());
                order.AddRange(ids);
            }
            return order;
        }

        var first = Epoch(3);
        Assert.Equal(Enumerable.Range(0, 10).Select(i => (long)i), first.Order());
        Assert.Equal(first, Epoch(3));
        Assert.NotEqual(first, Epoch(4));
        using var ordered = new BatchLoader(split, batchSize: 3, shuffle: false, seed: 0);
        ordered.StartEpoch();
        Assert.Equal(4, ordered.BatchCount);
        using var scope = NewDisposeScope();
        Assert.Equal([9L], ordered.Batch(3).Targets.data<long>().ToArray());
    }
}
