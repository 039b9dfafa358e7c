using System.Globalization;
using System.Text;

namespace Experiments.Tests.Support;

/// <summary>Learnable CSV data of any size: three Gaussian blobs in <c>features</c> dimensions.</summary>
public static class SyntheticData
{
    public static byte[] BlobsCsv(int rows, int features, int seed)
    {
        var random = new Random(seed);
        var csv = new StringBuilder();
        csv.AppendLine(string.Join(",", Enumerable.Range(0, features).Select(i => $"f{i}")) + ",label");
        for (var row = 0; row < rows; row++)
        {
            var label = row % 3;
            for (var feature = 0; feature < features; feature++)
            {
                var center = feature % 3 == label ? 2.0 : 0.0;
                csv.Append((center + random.NextDouble() - 0.5).ToString("F4", CultureInfo.InvariantCulture)).Append(',');
            }
            csv.Append(label).Append('\n');
        }
        return Encoding.UTF8.GetBytes(csv.ToString());
    }
}
