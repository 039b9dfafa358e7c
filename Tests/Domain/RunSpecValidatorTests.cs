using System.Text.Json;
using Experiments.Domain.Datasets;
using Experiments.Domain.Losses;
using Experiments.Domain.Models;
using Experiments.Domain.Optimizers;
using Experiments.Domain.Runs;
using Experiments.Domain.Schedulers;
using Experiments.Domain.Validation;

namespace Experiments.Tests.Domain;

/// <summary>A loss that does not fit the dataset's task or the model's output is refused, with the fix.</summary>
public sealed class RunSpecValidatorTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 27, 12, 0, 0, TimeSpan.Zero);
    private const string Mlp = """[{"type": "linear", "outFeatures": 8}, {"type": "relu"}, {"type": "linear", "outFeatures": 3}]""";

    [Theory]
    [InlineData("""{"type": "mse"}""", Mlp, "loss.type", "mse compares numbers, but dataset 'flowers' has class labels (3 classes). Use crossEntropy, or set \"oneHot\": true to compare the outputs with one-hot labels (the model then outputs 3 values).")]
    [InlineData("""{"type": "crossEntropy"}""", """[{"type": "linear", "outFeatures": 5}]""", "modelId", "crossEntropy needs one output per class: dataset 'flowers' has 3 classes, but model 'net' v1 outputs [5] per sample. End the model with a linear layer of outFeatures 3 (layers[0] is linear).")]
    [InlineData("""{"type": "crossEntropy"}""", """[{"type": "linear", "outFeatures": 3}, {"type": "softmax"}]""", "modelId", "crossEntropy applies log-softmax to the model's outputs itself, and model 'net' v1 ends with a softmax (layers[1])")]
    [InlineData("""{"type": "crossEntropy", "weight": [1, 2]}""", Mlp, "loss.weight", "needs 3 numbers (one per class); got 2.")]
    [InlineData("""{"type": "nll"}""", Mlp, "loss.type", "nll takes log-probabilities, but model 'net' v1 ends with linear (layers[2]). End the model with {\"type\": \"logSoftmax\"}, or use crossEntropy, which applies log-softmax itself.")]
    [InlineData("""{"type": "bceWithLogits"}""", """[{"type": "linear", "outFeatures": 1}]""", "modelId", "bceWithLogits needs one logit per class ([3]) to compare with one-hot labels")]
    [InlineData("""{"type": "bceWithLogits"}""", """[{"type": "linear", "outFeatures": 3}, {"type": "sigmoid"}]""", "modelId", "bceWithLogits applies the sigmoid itself")]
    [InlineData("""{"type": "bceWithLogits", "posWeight": [1]}""", Mlp, "loss.posWeight", "needs 3 numbers (one per output); got 1.")]
    [InlineData("""{"type": "huber", "oneHot": true}""", """[{"type": "linear", "outFeatures": 2}]""", "modelId", "huber needs one output per class")]
    public void Classification_refuses_losses_and_outputs_that_do_not_fit(string loss, string layers, string field, string expected)
    {
        var errors = new ValidationErrors();

        Assert.Null(RunSpecValidator.CheckFit(Resolve(loss), Flowers(), Model(layers), errors));
        Assert.Contains(expected, Assert.Single(errors.ToDictionary()[field]), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"type": "crossEntropy"}""", "[2]", "loss.type", "crossEntropy needs class labels, but dataset 'houses' has regression targets (2 target values per sample); use mse, l1, smoothL1 or huber.")]
    [InlineData("""{"type": "bceWithLogits"}""", "[2]", "loss.type", "bceWithLogits needs class labels")]
    [InlineData("""{"type": "mse", "oneHot": true}""", "[2]", "loss.oneHot", "compares the outputs with one-hot class labels, but dataset 'houses' has regression targets; leave it out.")]
    [InlineData("""{"type": "mse"}""", "[3]", "modelId", "dataset 'houses' has 2 target values per sample, but model 'net' v1 outputs [3] per sample. End the model with a linear layer of outFeatures 2 (layers[0] is linear).")]
    public void Regression_refuses_classification_losses_and_outputs_that_do_not_fit(string loss, string outputs, string field, string expected)
    {
        var errors = new ValidationErrors();
        var model = Model($$"""[{"type": "linear", "outFeatures": {{outputs.Trim('[', ']')}}}]""");

        Assert.Null(RunSpecValidator.CheckFit(Resolve(loss), Houses(), model, errors));
        Assert.Contains(expected, Assert.Single(errors.ToDictionary()[field]), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"type": "crossEntropy", "labelSmoothing": 0.1, "weight": [1, 1, 2]}""", Mlp)]
    [InlineData("""{"type": "nll"}""", """[{"type": "linear", "outFeatures": 3}, {"type": "logSoftmax"}]""")]
    [InlineData("""{"type": "bceWithLogits", "posWeight": [1, 2, 1]}""", Mlp)]
    [InlineData("""{"type": "mse", "oneHot": true}""", Mlp)]
    public void Classification_accepts_every_loss_that_fits(string loss, string layers)
    {
        var errors = new ValidationErrors();

        Assert.NotNull(RunSpecValidator.CheckFit(Resolve(loss), Flowers(), Model(layers), errors));
        Assert.True(errors.IsEmpty, errors.ToString());
    }

    [Fact]
    public void A_model_without_weights_is_refused_before_it_trains()
    {
        var errors = new ValidationErrors();
        var threeFeatures = new Dataset(Guid.NewGuid(), "three", DatasetFormat.Csv, [3], ["x", "y", "z"], [10, 10, 10], 24, 6, new FeatureStatistics(0, 1, 0.5, 0.2), "h3", "f3.bin", Now);

        Assert.Null(RunSpecValidator.CheckFit(Resolve("""{"type": "crossEntropy"}"""), threeFeatures, Model("""[{"type": "relu"}]"""), errors));
        Assert.Equal(
            "model 'net' v1 has no trainable parameters (its layers: relu), so training would change nothing; add a layer with weights, such as linear or conv2d.",
            Assert.Single(errors.ToDictionary()["modelId"]));
    }

    [Fact]
    public void A_binary_dataset_takes_one_logit_with_bce()
    {
        var binary = new Dataset(Guid.NewGuid(), "spam", DatasetFormat.Csv, [4], ["ham", "spam"], [10, 10], 16, 4, new FeatureStatistics(0, 1, 0.5, 0.2), "h2", "f2.bin", Now);

        Assert.NotNull(RunSpecValidator.CheckFit(Resolve("""{"type": "bceWithLogits"}"""), binary, Model("""[{"type": "linear", "outFeatures": 1}]"""), new ValidationErrors()));
    }

    [Fact]
    public void Regression_refuses_a_target_accuracy_and_a_plateau_on_accuracy()
    {
        var errors = new ValidationErrors();
        var spec = Resolve("""{"type": "mse"}""", """{"type": "reduceLROnPlateau", "monitor": "testAccuracy"}""") with { TargetAccuracy = 0.9 };

        Assert.Null(RunSpecValidator.CheckFit(spec, Houses(), Model("""[{"type": "linear", "outFeatures": 2}]"""), errors));
        var found = errors.ToDictionary();
        Assert.Contains("applies to classification", found["targetAccuracy"][0], StringComparison.Ordinal);
        Assert.Contains("testAccuracy exists for classification only", found["scheduler.monitor"][0], StringComparison.Ordinal);
    }

    [Fact]
    public void A_batch_of_one_sample_is_refused_when_batch_norm_needs_two()
    {
        var errors = new ValidationErrors();
        // 16 training samples in batches of 5 leave one sample over.
        var spec = Resolve("""{"type": "crossEntropy"}""") with { BatchSize = 5 };

        Assert.Null(RunSpecValidator.CheckFit(spec, Flowers(), Model("""[{"type": "linear", "outFeatures": 8}, {"type": "batchNorm1d"}, {"type": "linear", "outFeatures": 3}]"""), errors));
        Assert.Equal("leaves a last batch of one sample (16 training samples), and layers[1] (batchNorm1d) needs more than one value per channel while training; choose another batch size, e.g. 6.",
            Assert.Single(errors.ToDictionary()["batchSize"]));
    }

    [Fact]
    public void An_embedding_needs_a_vocabulary_that_covers_the_features()
    {
        var errors = new ValidationErrors();
        var model = Model("""[{"type": "embedding", "numEmbeddings": 50, "embeddingDim": 4}, {"type": "flatten"}, {"type": "linear", "outFeatures": 3}]""");
        var tokens = new Dataset(Guid.NewGuid(), "tokens", DatasetFormat.Csv, [6], ["a", "b", "c"], [8, 8, 4], 16, 4, new FeatureStatistics(0, 99, 20, 10), "h3", "f3.bin", Now);

        Assert.Null(RunSpecValidator.CheckFit(Resolve("""{"type": "crossEntropy"}"""), tokens, model, errors));
        Assert.Contains("looks up token indices 0 to 49, but the features of dataset 'tokens' run from 0 to 99. Set numEmbeddings to at least 100.", errors.ToDictionary()["modelId"][0], StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"type": "stepLR", "stepSize": 2, "warmupEpochs": 10}""", "adam", "scheduler.warmupEpochs", "must be less than epochs (10)")]
    [InlineData("""{"type": "oneCycleLR", "maxLr": 0.1}""", "adagrad", "scheduler.cycleMomentum", "adagrad has no momentum to cycle; set cycleMomentum to false")]
    public void Schedules_that_cannot_run_are_refused_before_the_run(string scheduler, string optimizer, string field, string expected)
    {
        var errors = new ValidationErrors();

        Assert.Null(RunSpecValidator.Resolve(Spec("""{"type": "crossEntropy"}""", scheduler) with { Optimizer = new OptimizerSpec(optimizer) }, 1, errors));
        Assert.Contains(expected, Assert.Single(errors.ToDictionary()[field]), StringComparison.Ordinal);
    }

    [Fact]
    public void Cosine_annealing_runs_over_the_epochs_after_the_warm_up_unless_told()
    {
        var resolved = Resolve("""{"type": "crossEntropy"}""", """{"type": "cosineAnnealingLR", "warmupEpochs": 3}""");

        Assert.Equal(7, resolved.Scheduler!.Int("tMax"));
        Assert.Equal(1.0 / 3, resolved.Scheduler.Double("warmupStartFactor"));
        Assert.Equal(0.0, resolved.Scheduler.Double("etaMin"));
    }

    [Theory]
    [InlineData(double.PositiveInfinity)]
    [InlineData(double.NegativeInfinity)]
    [InlineData(double.NaN)]
    [InlineData(-1.0)]
    [InlineData(0.0)]
    public void Regression_a_gradient_clip_norm_that_is_not_a_finite_positive_number_is_refused(double clip)
    {
        var errors = new ValidationErrors();

        Assert.Null(RunSpecValidator.Resolve(Spec("""{"type": "crossEntropy"}""") with { GradientClipNorm = clip }, 1, errors));
        Assert.StartsWith("must be a finite number greater than 0", Assert.Single(errors.ToDictionary()["gradientClipNorm"]), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(double.PositiveInfinity)]
    [InlineData(double.NaN)]
    public void A_target_accuracy_that_is_not_finite_is_refused(double target)
    {
        var errors = new ValidationErrors();

        Assert.Null(RunSpecValidator.Resolve(Spec("""{"type": "crossEntropy"}""") with { TargetAccuracy = target }, 1, errors));
        Assert.Contains("targetAccuracy", errors.ToDictionary().Keys);
    }

    [Fact]
    public void A_run_whose_estimated_memory_exceeds_the_limit_is_refused_with_the_estimate_the_limit_the_setting_and_a_batch_size_that_fits()
    {
        var (spec, model, summary) = Fitted(batchSize: 1000);
        var estimate = summary.Estimate(1000);
        var errors = new ValidationErrors();
        var limits = new ModelLimits(long.MaxValue, estimate.TotalBytes - 1) { MaxTrainingMemorySetting = "Experiments:MaxTrainingMemoryBytes" };

        Assert.True(RunSpecValidator.CheckResources(spec, model, summary, limits with { MaxTrainingMemoryBytes = estimate.TotalBytes }, errors));
        Assert.False(RunSpecValidator.CheckResources(spec, model, summary, limits, errors));

        var message = Assert.Single(errors.ToDictionary()["batchSize"]);
        Assert.Contains($"training model 'net' v1 at batch size 1000 needs an estimated {estimate.TotalBytes:N0} bytes", message, StringComparison.Ordinal);
        Assert.Contains($"more than the limit of {estimate.TotalBytes - 1:N0} bytes", message, StringComparison.Ordinal);
        Assert.Contains("(setting Experiments:MaxTrainingMemoryBytes)", message, StringComparison.Ordinal);
        Assert.Contains("use a batch size of at most 999", message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_run_that_needs_more_than_the_devices_memory_is_refused_even_under_the_limit()
    {
        var (spec, model, summary) = Fitted(batchSize: 32);
        var errors = new ValidationErrors();

        Assert.False(RunSpecValidator.CheckResources(spec, model, summary, new ModelLimits(long.MaxValue, long.MaxValue) { DeviceMemoryBytes = 100 }, errors));

        var message = Assert.Single(errors.ToDictionary()["modelId"]);
        Assert.Contains("more than the 100 bytes (0 GiB) of memory this machine has", message, StringComparison.Ordinal);
        Assert.Contains("weights, gradients and optimizer state alone do not fit", message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_run_of_a_model_over_the_parameter_limit_is_refused()
    {
        var (spec, model, summary) = Fitted(batchSize: 32);
        var errors = new ValidationErrors();

        Assert.False(RunSpecValidator.CheckResources(spec, model, summary, new ModelLimits(10, long.MaxValue), errors));
        Assert.Contains($"has {summary.TotalParameters} parameters, more than the limit of 10", Assert.Single(errors.ToDictionary()["modelId"]), StringComparison.Ordinal);
    }

    private static (RunSpec Spec, ModelDefinition Model, ModelSummary Summary) Fitted(int batchSize)
    {
        var spec = Resolve("""{"type": "crossEntropy"}""") with { BatchSize = batchSize };
        var model = Model(Mlp);
        var errors = new ValidationErrors();
        var summary = RunSpecValidator.CheckFit(spec, Flowers(), model, errors);
        Assert.True(summary is not null, errors.ToString());
        return (spec, model, summary);
    }

    private static Dataset Flowers() =>
        new(Guid.NewGuid(), "flowers", DatasetFormat.Csv, [4], ["a", "b", "c"], [8, 8, 4], 16, 4, new FeatureStatistics(0, 1, 0.5, 0.2), "h1", "f1.bin", Now);

    private static Dataset Houses() =>
        new(Guid.NewGuid(), "houses", DatasetFormat.Csv, [4], [], [], 16, 4, new FeatureStatistics(0, 1, 0.5, 0.2), "h4", "f4.bin", Now, DatasetTask.Regression, targetSize: 2,
            targetStatistics: new FeatureStatistics(0, 10, 5, 2));

    private static ModelDefinition Model(string layers) =>
        new(Guid.NewGuid(), "net", 1, JsonSerializer.Deserialize<List<LayerSpec>>(layers)!, Now);

    private static RunSpec Spec(string loss, string? scheduler = null) => new()
    {
        DatasetId = Guid.NewGuid(),
        ModelId = Guid.NewGuid(),
        Optimizer = new OptimizerSpec("adam"),
        Loss = JsonSerializer.Deserialize<LossSpec>(loss),
        Scheduler = scheduler is null ? null : JsonSerializer.Deserialize<SchedulerSpec>(scheduler),
        Epochs = 10,
        Seed = 1,
    };

    private static RunSpec Resolve(string loss, string? scheduler = null)
    {
        var errors = new ValidationErrors();
        var resolved = RunSpecValidator.Resolve(Spec(loss, scheduler), 1, errors);
        Assert.True(resolved is not null, errors.ToString());
        return resolved;
    }
}
