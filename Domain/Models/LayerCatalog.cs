using Experiments.Domain.Specs;

namespace Experiments.Domain.Models;

/// <summary>
/// Layer types and their hyperparameters, named as in <c>torch.nn</c> (camelCase) with PyTorch's defaults.
/// Input sizes (<c>inFeatures</c>, <c>inChannels</c>, <c>numFeatures</c>, <c>inputSize</c>) are never given:
/// <see cref="ModelValidator"/> infers them from the previous layer's output shape.
/// </summary>
public static class LayerCatalog
{
    public static ComponentCatalog Instance { get; } = new("layer",
    [
        new("linear", "Fully connected layer y = xWᵀ + b on the last dimension (torch.nn.Linear).",
        [
            new("outFeatures", ParameterKind.Integer, "Number of output features.", Required: true, Minimum: 1),
            new("bias", ParameterKind.Boolean, "Learn an additive bias.", true),
        ],
        Inferred("inFeatures")),
        new("conv1d", "1-D convolution over [C,L] samples (torch.nn.Conv1d).",
        [
            new("outChannels", ParameterKind.Integer, "Number of output channels.", Required: true, Minimum: 1),
            new("kernelSize", ParameterKind.Integer, "Size of the convolving kernel.", Required: true, Minimum: 1),
            new("stride", ParameterKind.Integer, "Stride of the convolution.", 1L, Minimum: 1),
            new("padding", ParameterKind.Integer, "Zero padding added to both sides.", 0L, Minimum: 0),
            new("dilation", ParameterKind.Integer, "Spacing between kernel elements.", 1L, Minimum: 1),
            new("groups", ParameterKind.Integer, "Blocked connections from input to output channels; divides both.", 1L, Minimum: 1),
            new("bias", ParameterKind.Boolean, "Learn an additive bias.", true),
        ],
        Inferred("inChannels")),
        new("conv2d", "2-D convolution over [C,H,W] samples (torch.nn.Conv2d). Sizes are a number or [height, width].",
        [
            new("outChannels", ParameterKind.Integer, "Number of output channels.", Required: true, Minimum: 1),
            Pair("kernelSize", "Size of the convolving kernel.", null, required: true, minimum: 1),
            Pair("stride", "Stride of the convolution.", 1L, minimum: 1),
            Pair("padding", "Zero padding added to all four sides.", 0L, minimum: 0),
            Pair("dilation", "Spacing between kernel elements.", 1L, minimum: 1),
            new("groups", ParameterKind.Integer, "Blocked connections from input to output channels; divides both.", 1L, Minimum: 1),
            new("bias", ParameterKind.Boolean, "Learn an additive bias.", true),
        ],
        Inferred("inChannels")),
        new("maxPool1d", "Max pooling over [C,L] samples (torch.nn.MaxPool1d).",
        [
            new("kernelSize", ParameterKind.Integer, "Size of the window.", Required: true, Minimum: 1),
            new("stride", ParameterKind.Integer, "Stride of the window; none means kernelSize.", Minimum: 1),
            new("padding", ParameterKind.Integer, "Implicit negative-infinity padding on both sides; at most half the kernel size.", 0L, Minimum: 0),
            new("dilation", ParameterKind.Integer, "Spacing between window elements.", 1L, Minimum: 1),
            new("ceilMode", ParameterKind.Boolean, "Round the output size up instead of down.", false),
        ],
        Rules: [HalfKernelPadding(1)]),
        new("maxPool2d", "Max pooling over [C,H,W] samples (torch.nn.MaxPool2d). Sizes are a number or [height, width].",
        [
            Pair("kernelSize", "Size of the window.", null, required: true, minimum: 1),
            Pair("stride", "Stride of the window; none means kernelSize.", null, minimum: 1),
            Pair("padding", "Implicit negative-infinity padding on all sides; at most half the kernel size.", 0L, minimum: 0),
            Pair("dilation", "Spacing between window elements.", 1L, minimum: 1),
            new("ceilMode", ParameterKind.Boolean, "Round the output size up instead of down.", false),
        ],
        Rules: [HalfKernelPadding(2)]),
        new("avgPool2d", "Average pooling over [C,H,W] samples (torch.nn.AvgPool2d). Sizes are a number or [height, width].",
        [
            Pair("kernelSize", "Size of the window.", null, required: true, minimum: 1),
            Pair("stride", "Stride of the window; none means kernelSize.", null, minimum: 1),
            Pair("padding", "Implicit zero padding on all sides; at most half the kernel size.", 0L, minimum: 0),
            new("ceilMode", ParameterKind.Boolean, "Round the output size up instead of down.", false),
            new("countIncludePad", ParameterKind.Boolean, "Count the zero padding in the average.", true),
        ],
        Rules: [HalfKernelPadding(2)]),
        new("adaptiveAvgPool2d", "Average pooling to a fixed [H,W] whatever the input size (torch.nn.AdaptiveAvgPool2d).",
        [
            Pair("outputSize", "Target output size: a number or [height, width].", null, required: true, minimum: 1),
        ]),
        new("batchNorm1d", "Batch normalization over [C] or [C,L] samples (torch.nn.BatchNorm1d).",
        BatchNormParameters(),
        Inferred("numFeatures")),
        new("batchNorm2d", "Batch normalization over [C,H,W] samples (torch.nn.BatchNorm2d).",
        BatchNormParameters(),
        Inferred("numFeatures")),
        new("layerNorm", "Layer normalization over the last dimensions (torch.nn.LayerNorm).",
        [
            new("normalizedShape", ParameterKind.IntegerList, "Trailing dimensions to normalize over; none means the last dimension.", Minimum: 1),
            new("eps", ParameterKind.Number, "Value added to the variance for numerical stability.", 1e-5, Minimum: 0, ExclusiveMinimum: true),
            new("elementwiseAffine", ParameterKind.Boolean, "Learn a per-element scale (and bias).", true),
            new("bias", ParameterKind.Boolean, "Learn a per-element bias as well (with elementwiseAffine).", true),
        ]),
        new("dropout", "Zeroes elements with probability p while training (torch.nn.Dropout).",
        [
            new("p", ParameterKind.Number, "Probability of an element to be zeroed.", 0.5, Minimum: 0, Maximum: 1, ExclusiveMaximum: true),
        ]),
        new("flatten", "Flattens dimensions startDim..endDim into one (torch.nn.Flatten); dimension 0 is the batch.",
        [
            new("startDim", ParameterKind.Integer, "First dimension to flatten (1 = the first dimension of a sample).", 1L, Minimum: 1),
            new("endDim", ParameterKind.Integer, "Last dimension to flatten (-1 = the last).", -1L),
        ]),
        new("reshape", "Gives each sample a new shape with the same number of elements (Tensor.reshape, batch kept).",
        [
            new("shape", ParameterKind.IntegerList, "Shape of one sample, e.g. [1, 28, 28]; one entry may be -1 (inferred).", Required: true, Minimum: -1),
        ],
        Rules: [new("shape", ReshapeProblem)]),
        new("relu", "Rectified linear unit (torch.nn.ReLU).", []),
        new("leakyRelu", "Leaky rectified linear unit (torch.nn.LeakyReLU).",
        [
            new("negativeSlope", ParameterKind.Number, "Slope for negative inputs.", 0.01),
        ]),
        new("gelu", "Gaussian error linear unit (torch.nn.GELU).",
        [
            new("approximate", ParameterKind.Text, "'none' for the exact form, 'tanh' for the tanh approximation.", "none", AllowedValues: ["none", "tanh"]),
        ]),
        new("elu", "Exponential linear unit (torch.nn.ELU).",
        [
            new("alpha", ParameterKind.Number, "Value for negative saturation.", 1.0),
        ]),
        new("sigmoid", "Logistic sigmoid (torch.nn.Sigmoid).", []),
        new("tanh", "Hyperbolic tangent (torch.nn.Tanh).", []),
        new("softmax", "Softmax along a dimension (torch.nn.Softmax); dimension 0 is the batch.",
        [
            new("dim", ParameterKind.Integer, "Dimension to normalize (-1 = the last).", -1L),
        ]),
        new("logSoftmax", "Log of the softmax along a dimension (torch.nn.LogSoftmax): the input nll expects.",
        [
            new("dim", ParameterKind.Integer, "Dimension to normalize (-1 = the last).", -1L),
        ]),
        new("embedding", "Lookup table from token indices to vectors (torch.nn.Embedding); first layer only, the features are the indices.",
        [
            new("numEmbeddings", ParameterKind.Integer, "Size of the vocabulary: indices run from 0 to numEmbeddings - 1.", Required: true, Minimum: 1),
            new("embeddingDim", ParameterKind.Integer, "Size of each embedding vector.", Required: true, Minimum: 1),
            new("paddingIdx", ParameterKind.Integer, "Index whose vector stays zero and gets no gradient; none means no padding index."),
        ],
        Rules: [new("paddingIdx", spec => spec.IntOrNull("paddingIdx") is { } index && (index >= spec.Int("numEmbeddings") || index < -spec.Int("numEmbeddings"))
            ? $"must lie within numEmbeddings ({spec.Int("numEmbeddings")}); got {index}."
            : null)]),
        new("lstm", "Long short-term memory over [L, features] sequences, batch first (torch.nn.LSTM).",
        RecurrentParameters(),
        RecurrentHints(),
        [RecurrentDropoutRule()]),
        new("gru", "Gated recurrent unit over [L, features] sequences, batch first (torch.nn.GRU).",
        RecurrentParameters(),
        RecurrentHints(),
        [RecurrentDropoutRule()]),
        new("residual", "A sub-stack whose output is added to its input: y = x + layers(x). The sub-stack must keep the shape.",
        [
            new("layers", ParameterKind.Layers, "The wrapped layers, e.g. [{\"type\": \"conv2d\", \"outChannels\": 16, \"kernelSize\": 3, \"padding\": 1}, {\"type\": \"relu\"}].", Required: true),
        ]),
    ]);

    private static Dictionary<string, string> Inferred(string name) => new()
    {
        [name] = "It is inferred from the previous layer's output shape; leave it out.",
    };

    private static ParameterDefinition Pair(string name, string description, object? defaultValue, bool required = false, int minimum = 0) =>
        new(name, ParameterKind.IntegerOrList, description, defaultValue, Required: required, Minimum: minimum, Length: 2);

    private static ParameterDefinition[] BatchNormParameters() =>
    [
        new("eps", ParameterKind.Number, "Value added to the variance for numerical stability.", 1e-5, Minimum: 0, ExclusiveMinimum: true),
        new("momentum", ParameterKind.Number, "Weight of the current batch in the running statistics.", 0.1, Minimum: 0, Maximum: 1),
        new("affine", ParameterKind.Boolean, "Learn a per-channel scale and bias.", true),
        new("trackRunningStats", ParameterKind.Boolean, "Keep running statistics for evaluation.", true),
    ];

    private static ParameterDefinition[] RecurrentParameters() =>
    [
        new("hiddenSize", ParameterKind.Integer, "Features of the hidden state.", Required: true, Minimum: 1),
        new("numLayers", ParameterKind.Integer, "Number of stacked recurrent layers.", 1L, Minimum: 1, Maximum: 16),
        new("bias", ParameterKind.Boolean, "Learn the biases b_ih and b_hh.", true),
        new("dropout", ParameterKind.Number, "Dropout between stacked layers (needs numLayers > 1).", 0.0, Minimum: 0, Maximum: 1, ExclusiveMaximum: true),
        new("bidirectional", ParameterKind.Boolean, "Run a second layer backwards and concatenate both.", false),
        new("output", ParameterKind.Text, "'last': the output at the last step [D*hiddenSize]; 'sequence': every step [L, D*hiddenSize].", "last", AllowedValues: ["last", "sequence"]),
    ];

    private static Dictionary<string, string> RecurrentHints() => new()
    {
        ["inputSize"] = "It is inferred from the previous layer's output shape; leave it out.",
        ["batchFirst"] = "Sequences are always batch first here: samples are [L, features].",
    };

    /// <summary>PyTorch only warns; dropout between stacked layers does nothing with one layer.</summary>
    private static ParameterRule RecurrentDropoutRule() => new("dropout", spec => spec.Double("dropout") > 0 && spec.Int("numLayers") == 1
        ? "applies between stacked layers, so with numLayers 1 it does nothing; set numLayers to 2 or more, or add a dropout layer after this one."
        : null);

    /// <summary>PyTorch refuses pooling whose padding exceeds half the kernel ("pad should be at most half of kernel size").</summary>
    private static ParameterRule HalfKernelPadding(int dimensions) => new("padding", spec =>
    {
        var kernel = spec.Ints("kernelSize", dimensions);
        var padding = spec.Ints("padding", dimensions);
        return kernel.Zip(padding).Any(pair => pair.Second > pair.First / 2)
            ? $"must be at most half the kernel size ({string.Join(", ", kernel.Select(k => k / 2))}); got {string.Join(", ", padding)}."
            : null;
    });

    private static string? ReshapeProblem(ComponentSpec spec)
    {
        var shape = spec.Ints("shape");
        if (shape.Length == 0)
        {
            return "needs at least one dimension, e.g. [1, 28, 28].";
        }
        if (shape.Contains(0))
        {
            return $"has a dimension of size 0: {ModelValidator.Format(shape)}.";
        }
        return shape.Count(d => d == -1) > 1 ? $"may infer one dimension (-1), not {shape.Count(d => d == -1)}: {ModelValidator.Format(shape)}." : null;
    }
}
