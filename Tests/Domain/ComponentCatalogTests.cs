using System.Text.Json;
using Experiments.Domain.Losses;
using Experiments.Domain.Models;
using Experiments.Domain.Optimizers;
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

    [Fact]
    public void A_spec_reads_and_writes_as_one_flat_json_object()
    {
        var layer = JsonSerializer.Deserialize<LayerSpec>("""{"type":"linear","outFeatures":3}""")!;

        Assert.Equal("linear", layer.Type);
        Assert.Equal(3, layer.Int("outFeatures"));
        Assert.Equal("""{"type":"linear","outFeatures":3}""", JsonSerializer.Serialize(layer));
    }

    private static Dictionary<string, JsonElement> Parameters(params (string Name, object Value)[] values) =>
        values.ToDictionary(value => value.Name, value => JsonSerializer.SerializeToElement(value.Value));
}
