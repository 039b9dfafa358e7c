using System.Text.Json;
using Experiments.Domain.Losses;
using Experiments.Domain.Models;
using Experiments.Domain.Optimizers;
using Experiments.Domain.Schedulers;
using Experiments.Domain.Specs;
using Experiments.Domain.Validation;

namespace Experiments.Tests.Domain;

public sealed class ComponentCatalogTests
{
    [Fact]
    public void Defaults_are_filled_in_with_pytorchs_values()
    {
        var errors = new ValidationErrors();
        var adam = OptimizerCatalog.Instance.Resolve(new OptimizerSpec("adam"), "optimizer", errors)!;
        var sgd = OptimizerCatalog.Instance.Resolve(new OptimizerSpec("sgd"), "optimizer", errors)!;

        Assert.True(errors.IsEmpty);
        Assert.Equal(0.001, adam.Double("lr"));
        Assert.Equal([0.9, 0.999], adam.Doubles("betas"));
        Assert.Equal(1e-8, adam.Double("eps"));
        Assert.Equal(0.0, adam.Double("weightDecay"));
        Assert.False(adam.Bool("amsgrad"));
        Assert.Equal(0.0, sgd.Double("momentum"));
        Assert.Equal(0.0, sgd.Double("dampening"));
        Assert.False(sgd.Bool("nesterov"));
    }

    [Fact]
    public void A_spec_is_described_in_pytorchs_call_style()
    {
        Assert.Equal("adam(lr=0.01, betas=[0.9,0.999])", new OptimizerSpec("adam", Parameters(("lr", 0.01), ("betas", new[] { 0.9, 0.999 }))).Describe());
        Assert.Equal("crossEntropy()", new LossSpec("crossEntropy").Describe());
    }

    [Fact]
    public void An_unknown_hyperparameter_is_refused_by_name_with_the_valid_ones_listed()
    {
        var errors = new ValidationErrors();
        var spec = new LayerSpec("linear", Parameters(("outFeatures", 3), ("units", 3)));

        Assert.Null(LayerCatalog.Instance.Resolve(spec, "layers[0]", errors));
        var message = Assert.Single(errors.ToDictionary()["layers[0].units"]);
        Assert.Contains("linear has no 'units'", message, StringComparison.Ordinal);
        Assert.Contains("outFeatures, bias", message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_type_in_the_wrong_case_gets_a_suggestion()
    {
        var errors = new ValidationErrors();

        Assert.Null(LossCatalog.Instance.Resolve(new LossSpec("CrossEntropy"), "loss", errors));
        Assert.Contains("Did you mean 'crossEntropy'?", errors.ToDictionary()["loss.type"][0], StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("lr", -1.0, "must be greater than 0")]
    [InlineData("lr", 0.0, "must be greater than 0")]
    [InlineData("momentum", -0.5, "must be at least 0")]
    public void Out_of_range_values_are_refused(string name, double value, string expected)
    {
        var errors = new ValidationErrors();

        Assert.Null(OptimizerCatalog.Instance.Resolve(new OptimizerSpec("sgd", Parameters((name, value))), "optimizer", errors));
        Assert.Contains(expected, errors.ToDictionary()[$"optimizer.{name}"][0], StringComparison.Ordinal);
    }

    [Fact]
    public void Values_of_the_wrong_kind_are_refused()
    {
        var errors = new ValidationErrors();

        Assert.Null(OptimizerCatalog.Instance.Resolve(new OptimizerSpec("adam", Parameters(("betas", 0.9), ("amsgrad", "yes"))), "optimizer", errors));
        var found = errors.ToDictionary();
        Assert.Contains("must be a list", found["optimizer.betas"][0], StringComparison.Ordinal);
        Assert.Contains("must be true or false", found["optimizer.amsgrad"][0], StringComparison.Ordinal);
    }

    [Fact]
    public void A_missing_component_or_type_is_required()
    {
        var errors = new ValidationErrors();

        Assert.Null(LossCatalog.Instance.Resolve<LossSpec>(null, "loss", errors));
        Assert.Null(LossCatalog.Instance.Resolve(new LossSpec(""), "other", errors));
        Assert.Contains("loss", errors.ToDictionary().Keys);
        Assert.Contains("other.type", errors.ToDictionary().Keys);
    }

    [Theory]
    [InlineData("adam", "momentum", "adam has no 'momentum'. Adam's momentum terms are 'betas' (default [0.9, 0.999]); to use momentum, choose sgd. Valid hyperparameters of adam: lr, betas, eps, weightDecay, amsgrad.")]
    [InlineData("adamW", "momentum", "adamW has no 'momentum'. AdamW's momentum terms are 'betas'")]
    [InlineData("sgd", "betas", "sgd has no 'betas'. Betas are Adam's momentum terms; sgd's is 'momentum'.")]
    [InlineData("rmsprop", "betas", "rmsprop's running average is set by 'alpha'")]
    [InlineData("adagrad", "momentum", "Adagrad has no momentum")]
    [InlineData("sgd", "learningRate", "The learning rate is 'lr'.")]
    [InlineData("adam", "weight_decay", "adam has no 'weight_decay'. Did you mean 'weightDecay'?")]
    public void Classic_slips_are_answered_with_what_to_write_instead(string type, string name, string expected)
    {
        var errors = new ValidationErrors();

        Assert.Null(OptimizerCatalog.Instance.Resolve(new OptimizerSpec(type, Parameters((name, 0.9))), "optimizer", errors));
        Assert.Contains(expected, Assert.Single(errors.ToDictionary()[$"optimizer.{name}"]), StringComparison.Ordinal);
    }

    [Fact]
    public void Rules_across_hyperparameters_run_once_each_is_valid()
    {
        var errors = new ValidationErrors();

        Assert.Null(OptimizerCatalog.Instance.Resolve(new OptimizerSpec("sgd", Parameters(("nesterov", true))), "optimizer", errors));
        Assert.Contains("needs momentum > 0 and dampening 0", errors.ToDictionary()["optimizer.nesterov"][0], StringComparison.Ordinal);
        Assert.NotNull(OptimizerCatalog.Instance.Resolve(new OptimizerSpec("sgd", Parameters(("nesterov", true), ("momentum", 0.9))), "optimizer", new ValidationErrors()));
    }

    [Theory]
    [InlineData("""{"type": "conv2d", "outChannels": 4, "kernelSize": [3, 3, 3]}""", "layers[0].kernelSize", "must have exactly 2 numbers; got 3.")]
    [InlineData("""{"type": "conv2d", "outChannels": 4, "kernelSize": 2.5}""", "layers[0].kernelSize", "must be a whole number or a list of 2 whole numbers; got 2.5.")]
    [InlineData("""{"type": "conv2d", "outChannels": 4}""", "layers[0].kernelSize", "is required by conv2d")]
    [InlineData("""{"type": "conv2d", "inChannels": 1, "outChannels": 4, "kernelSize": 3}""", "layers[0].inChannels", "It is inferred from the previous layer's output shape; leave it out.")]
    [InlineData("""{"type": "maxPool2d", "kernelSize": 2, "padding": 2}""", "layers[0].padding", "must be at most half the kernel size (1, 1); got 2, 2.")]
    [InlineData("""{"type": "reshape", "shape": [-1, 4, -1]}""", "layers[0].shape", "may infer one dimension (-1), not 2")]
    [InlineData("""{"type": "lstm", "hiddenSize": 8, "dropout": 0.2}""", "layers[0].dropout", "with numLayers 1 it does nothing")]
    [InlineData("""{"type": "gelu", "approximate": "erf"}""", "layers[0].approximate", "'erf' is not allowed; use one of: none, tanh.")]
    [InlineData("""{"type": "residual", "layers": []}""", "layers[0].layers", "must be a non-empty list of layers")]
    public void Layer_hyperparameters_are_checked_by_kind_range_and_rule(string layer, string field, string expected)
    {
        var errors = new ValidationErrors();

        Assert.Null(LayerCatalog.Instance.Resolve(JsonSerializer.Deserialize<LayerSpec>(layer), "layers[0]", errors));
        Assert.Contains(expected, Assert.Single(errors.ToDictionary()[field]), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"type": "stepLR"}""", "scheduler.stepSize", "is required by stepLR")]
    [InlineData("""{"type": "multiStepLR", "milestones": [30, 10]}""", "scheduler.milestones", "must be a non-empty list of increasing epochs")]
    [InlineData("""{"type": "reduceLROnPlateau", "mode": "max"}""", "scheduler.mode", "The direction follows 'monitor'")]
    [InlineData("""{"type": "reduceLROnPlateau", "factor": 1.5}""", "scheduler.factor", "must be less than 1")]
    [InlineData("""{"type": "oneCycleLR", "maxLr": 0.1, "totalSteps": 100}""", "scheduler.totalSteps", "It is the run's epochs times its batches per epoch; leave it out.")]
    [InlineData("""{"type": "oneCycleLR", "maxLr": 0.1, "warmupEpochs": 2}""", "scheduler.warmupEpochs", "oneCycleLR warms up by itself")]
    [InlineData("""{"type": "cosineAnnealingLR", "T_max": 10}""", "scheduler.T_max", "Did you mean 'tMax'?")]
    public void Scheduler_slips_name_the_field(string scheduler, string field, string expected)
    {
        var errors = new ValidationErrors();

        Assert.Null(SchedulerCatalog.Instance.Resolve(JsonSerializer.Deserialize<SchedulerSpec>(scheduler), "scheduler", errors));
        Assert.Contains(expected, Assert.Single(errors.ToDictionary()[field]), StringComparison.Ordinal);
    }

    [Fact]
    public void A_spec_reads_and_writes_as_one_flat_json_object()
    {
        var layer = JsonSerializer.Deserialize<LayerSpec>("""{"type":"linear","outFeatures":3}""")!;

        Assert.Equal("linear", layer.Type);
        Assert.Equal(3, layer.Int("outFeatures"));
        Assert.Equal("""{"type":"linear","outFeatures":3}""", JsonSerializer.Serialize(layer));
    }

    /// <summary>
    /// NaN and ±Infinity as strings (how the API's JSON writes them) are not numbers, and a number too large for a
    /// double reads as Infinity: every number hyperparameter of every catalog refuses them all, by name.
    /// </summary>
    [Theory]
    [InlineData("\"NaN\"")]
    [InlineData("\"Infinity\"")]
    [InlineData("\"-Infinity\"")]
    [InlineData("1e400")]
    [InlineData("-1e400")]
    public void Every_number_hyperparameter_refuses_values_that_are_not_finite(string value)
    {
        ComponentCatalog[] catalogs = [LayerCatalog.Instance, OptimizerCatalog.Instance, LossCatalog.Instance, SchedulerCatalog.Instance];
        var checkedCount = 0;
        foreach (var catalog in catalogs)
        {
            foreach (var definition in catalog.Definitions)
            {
                foreach (var parameter in definition.Parameters.Where(p => p.Kind is ParameterKind.Number or ParameterKind.NumberList))
                {
                    var json = parameter.Kind == ParameterKind.Number ? value : $"[{value}]";
                    var errors = new ValidationErrors();
                    var spec = Spec(catalog, definition.Type, parameter.Name, json);
                    Assert.Null(Resolve(catalog, spec, catalog.Family, errors));
                    Assert.True(errors.ToDictionary().ContainsKey($"{catalog.Family}.{parameter.Name}"), $"{definition.Type}.{parameter.Name} = {json}: {errors}");
                    checkedCount++;
                }
            }
        }
        Assert.True(checkedCount > 20, $"only {checkedCount} number hyperparameters were found");
    }

    private static ComponentSpec Spec(ComponentCatalog catalog, string type, string name, string json)
    {
        var parameters = new Dictionary<string, JsonElement> { [name] = JsonDocument.Parse(json).RootElement.Clone() };
        return catalog.Family switch
        {
            "layer" => new LayerSpec(type, parameters),
            "optimizer" => new OptimizerSpec(type, parameters),
            "loss" => new LossSpec(type, parameters),
            _ => new SchedulerSpec(type, parameters),
        };
    }

    private static ComponentSpec? Resolve(ComponentCatalog catalog, ComponentSpec spec, string path, ValidationErrors errors) => spec switch
    {
        LayerSpec layer => catalog.Resolve(layer, path, errors),
        OptimizerSpec optimizer => catalog.Resolve(optimizer, path, errors),
        LossSpec loss => catalog.Resolve(loss, path, errors),
        SchedulerSpec scheduler => catalog.Resolve(scheduler, path, errors),
        _ => throw new InvalidOperationException(spec.GetType().Name),
    };

    private static Dictionary<string, JsonElement> Parameters(params (string Name, object Value)[] values) =>
        values.ToDictionary(value => value.Name, value => JsonSerializer.SerializeToElement(value.Value));
}
