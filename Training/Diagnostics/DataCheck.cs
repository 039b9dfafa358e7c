using System.IO.Hashing;
using Experiments.Domain.Runs;
using Experiments.Training.Data;

namespace Experiments.Training.Diagnostics;

/// <summary>
/// Pre-flight's look at the data as training will see it (with the validation split held out): the label distribution of
/// each split, evaluation samples equal to training samples, features that never vary. It reads the samples as stored:
/// the preprocessing maps each feature's values one to one (a non-zero scale, a positive std), so values equal as stored are
/// equal as the model sees them and, but for float32 rounding, the other way round. One pass over each split's arrays; no tensors.
/// </summary>
public static class DataCheck
{
    /// <param name="data">The dataset before any validation split is held out.</param>
    /// <param name="heldOut">The rows of its training split that stay for training and those held out (<see cref="ValidationSplit.Rows"/>), or null.</param>
    public static DataChecks Of(LoadedDataset data, (int[] Train, int[] Validation)? heldOut)
    {
        var all = Enumerable.Range(0, data.Train.Count).ToArray();
        var trainRows = heldOut?.Train ?? all;
        var sampleSize = data.StoredShape.Aggregate(1L, (product, dimension) => product * dimension);
        var splits = new List<SplitLabels> { Labels("train", data.Train, trainRows, data.ClassCount) };
        if (heldOut is { } rows)
        {
            splits.Add(Labels("validation", data.Train, rows.Validation, data.ClassCount));
        }
        splits.Add(Labels("test", data.Test, Enumerable.Range(0, data.Test.Count).ToArray(), data.ClassCount));

        var training = new TrainingSamples(data.Train, trainRows);
        var duplicates = new List<SplitDuplicates>();
        if (heldOut is { } held)
        {
            duplicates.Add(training.Duplicates("validation", data.Train, held.Validation));
        }
        duplicates.Add(training.Duplicates("test", data.Test, Enumerable.Range(0, data.Test.Count).ToArray()));
        return new DataChecks(splits, duplicates, Constant(data.Train, trainRows, (int)sampleSize));
    }

    private static SplitLabels Labels(string name, DatasetArrays split, int[] rows, int classCount)
    {
        if (split.Kind == TargetKind.ClassIndex)
        {
            var counts = new int[classCount];
            foreach (var row in rows)
            {
                counts[split.Labels[row]]++;
            }
            var present = counts.Where(count => count > 0).ToList();
            return new SplitLabels(name, rows.Length, counts, present.Count >= 2 ? present.Max() / (double)present.Min() : null, null, null);
        }
        if (rows.Length == 0)
        {
            return new SplitLabels(name, 0, [], null, null, null);
        }
        double sum = 0, squares = 0;
        long values = 0;
        foreach (var row in rows)
        {
            foreach (var value in split.Values.AsSpan(row * split.TargetSize, split.TargetSize))
            {
                sum += value;
                squares += (double)value * value;
                values++;
            }
        }
        var mean = sum / values;
        return new SplitLabels(name, rows.Length, [], null, mean, Math.Sqrt(Math.Max(0, squares / values - mean * mean)));
    }

    /// <summary>Features equal in every training row: their count and the first few flat indices.</summary>
    private static ConstantFeatures Constant(DatasetArrays train, int[] rows, int sampleSize)
    {
        if (rows.Length < 2)
        {
            return new ConstantFeatures(0, sampleSize, []);
        }
        var first = train.Sample(rows[0]);
        var sample = new float[sampleSize];
        var constant = new bool[sampleSize];
        Array.Fill(constant, true);
        foreach (var row in rows.AsSpan(1))
        {
            train.Features.CopyTo((long)row * sampleSize, sample);
            for (var feature = 0; feature < sampleSize; feature++)
            {
                // A NaN differs from everything, itself included: a feature with NaNs is not constant.
                constant[feature] &= sample[feature] == first[feature];
            }
        }
        var indices = Enumerable.Range(0, sampleSize).Where(feature => constant[feature]).ToList();
        return new ConstantFeatures(indices.Count, sampleSize, [.. indices.Take(DataChecks.MaxExamples).Select(index => (long)index)]);
    }

    /// <summary>The training rows by the hash of their stored feature bytes; equality is confirmed on the bytes themselves.</summary>
    private sealed class TrainingSamples
    {
        private readonly DatasetArrays _train;
        private readonly Dictionary<ulong, int> _byHash;

        public TrainingSamples(DatasetArrays train, int[] rows)
        {
            _train = train;
            _byHash = new Dictionary<ulong, int>(rows.Length);
            foreach (var row in rows)
            {
                _byHash.TryAdd(Hash(train, row), row);
            }
        }

        public SplitDuplicates Duplicates(string name, DatasetArrays split, int[] rows)
        {
            var count = 0;
            var examples = new List<DuplicatePair>();
            for (var index = 0; index < rows.Length; index++)
            {
                if (_byHash.TryGetValue(Hash(split, rows[index]), out var trainRow) && _train.SampleBytes(trainRow).SequenceEqual(split.SampleBytes(rows[index])))
                {
                    count++;
                    if (examples.Count < DataChecks.MaxExamples)
                    {
                        // A validation sample is named by its place in the dataset's training split, as the preview counts.
                        examples.Add(new DuplicatePair(name == "validation" ? rows[index] : index, trainRow));
                    }
                }
            }
            return new SplitDuplicates(name, count, examples);
        }

        private static ulong Hash(DatasetArrays split, int row) => XxHash3.HashToUInt64(split.SampleBytes(row));
    }
}
