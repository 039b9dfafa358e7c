using Microsoft.ML.OnnxRuntime;

namespace Experiments.Tests.Support;

/// <summary>Runs an ONNX model in ONNX Runtime (CPU) on one float32 input, as a user of the exported file would.</summary>
public static class OnnxRunner
{
    /// <summary>The model's only output for <paramref name="features"/> of <paramref name="shape"/> (batch first), and its shape.</summary>
    public static (float[] Values, long[] Shape, string Name) Run(byte[] model, float[] features, long[] shape)
    {
        using var session = new InferenceSession(model);
        var input = Assert.Single(session.InputMetadata);
        var output = Assert.Single(session.OutputMetadata);
        using var value = OrtValue.CreateTensorValueFromMemory(features, shape);
        using var runOptions = new RunOptions();
        using var results = session.Run(runOptions, [input.Key], [value], [output.Key]);
        var result = Assert.Single(results);
        return (result.GetTensorDataAsSpan<float>().ToArray(), result.GetTensorTypeAndShape().Shape, output.Key);
    }

    /// <summary>The model's metadata_props.</summary>
    public static IReadOnlyDictionary<string, string> Metadata(byte[] model)
    {
        using var session = new InferenceSession(model);
        return new Dictionary<string, string>(session.ModelMetadata.CustomMetadataMap);
    }
}
