using System.Text.Json;
using Experiments.Domain.Optimizers;
using Experiments.Domain.Validation;
using Experiments.Tests.Support;
using Experiments.Training.Optimizers;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Experiments.Tests.Training;

[Collection(OneAtATime.Name)]
public sealed class OptimizerFactoryTests
{
    /// <summary>The defaults documented at https://pytorch.org/docs/stable/optim.html (PyTorch 2.x), written out by hand.</summary>
    public static TheoryData<string, string> PyTorchDefaults => new()
    {
        { "sgd", """{"lr": 0.001, "momentum": 0, "dampening": 0, "weightDecay": 0, "nesterov": false}""" },
        { "adam", """{"lr": 0.001, "betas": [0.9, 0.999], "eps": 1e-8, "weightDecay": 0, "amsgrad": false}""" },
        { "adamW", """{"lr": 0.001, "betas": [0.9, 0.999], "eps": 1e-8, "weightDecay": 0.01, "amsgrad": false}""" },
        { "rmsprop", """{"lr": 0.01, "alpha": 0.99, "eps": 1e-8, "weightDecay": 0, "momentum": 0, "centered": false}""" },
        { "adagrad", """{"lr": 0.01, "lrDecay": 0, "weightDecay": 0, "initialAccumulatorValue": 0, "eps": 1e-10}""" },
    };

    public static TheoryData<string> Types => new(OptimizerCatalog.Instance.Definitions.Select(definition => definition.Type));

    [Theory]
    [MemberData(nameof(PyTorchDefaults))]
    public void Defaults_equal_pytorchs_and_reach_the_torchsharp_optimizer(string type, string documented)
    {
        var expected = JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(documented)!;
        var resolved = Resolve(type);

        Assert.Equal(expected.Keys.Order(), resolved.Parameters.Keys.Order());
        foreach (var (name, value) in expected)
        {
            Assert.True(SameValue(value, resolved.Parameters[name]), $"{type}.{name}: PyTorch {value}, catalog {resolved.Parameters[name]}");
        }

        using var parameter = new Parameter(zeros(3));
        using var optimizer = OptimizerFactory.Create(resolved, [parameter]);
        var held = Options(optimizer);
        Assert.Equal(expected.Keys.Order(), held.Keys.Order());
        Assert.All(expected, pair => Assert.True(SameValue(pair.Value, held[pair.Key]), $"{type}.{pair.Key}: PyTorch {pair.Value}, TorchSharp {held[pair.Key]}"));
    }

    [Theory]
    [MemberData(nameof(Types))]
    public void Every_optimizer_lowers_the_loss_in_a_few_steps(string type)
    {
        torch.manual_seed(3);
        using var model = nn.Linear(2, 1);
        using var optimizer = OptimizerFactory.Create(Resolve(type, ("lr", 0.05)), model.parameters());
        using var scope = NewDisposeScope();
        var inputs = randn(32, 2);
        var targets = inputs.matmul(tensor(new float[] { 2, -1 }).unsqueeze(1)) + 0.5f;

        double Step()
        {
            optimizer.zero_grad();
            var loss = nn.functional.mse_loss(model.forward(inputs), targets);
            loss.backward();
            optimizer.step();
            return loss.item<float>();
        }

        var first = Step();
        var last = Enumerable.Range(0, 9).Select(_ => Step()).Last();
        Assert.True(last < first, $"{type}: loss {first} → {last}");
    }

    private static OptimizerSpec Resolve(string type, params (string Name, object Value)[] parameters)
    {
        var errors = new ValidationErrors();
        var spec = OptimizerCatalog.Instance.Resolve(
            new OptimizerSpec(type, parameters.ToDictionary(p => p.Name, p => JsonSerializer.SerializeToElement(p.Value))), "optimizer", errors);
        Assert.True(errors.IsEmpty, errors.ToString());
        return spec!;
    }

    /// <summary>The hyperparameters TorchSharp's optimizer actually holds, under the catalog's names.</summary>
    private static Dictionary<string, JsonElement> Options(optim.Optimizer optimizer)
    {
        var group = optimizer.ParamGroups.First();
        Dictionary<string, object> options = group switch
        {
            SGD.ParamGroup sgd => new() { ["lr"] = group.LearningRate, ["momentum"] = sgd.Options.momentum!, ["dampening"] = sgd.Options.dampening!, ["weightDecay"] = sgd.Options.weight_decay!, ["nesterov"] = sgd.Options.nesterov! },
            Adam.ParamGroup adam => new() { ["lr"] = group.LearningRate, ["betas"] = new[] { adam.Options.beta1!.Value, adam.Options.beta2!.Value }, ["eps"] = adam.Options.eps!, ["weightDecay"] = adam.Options.weight_decay!, ["amsgrad"] = adam.Options.amsgrad! },
            AdamW.ParamGroup adamW => new() { ["lr"] = group.LearningRate, ["betas"] = new[] { adamW.Options.beta1!.Value, adamW.Options.beta2!.Value }, ["eps"] = adamW.Options.eps!, ["weightDecay"] = adamW.Options.weight_decay!, ["amsgrad"] = adamW.Options.amsgrad! },
            RMSProp.ParamGroup rmsprop => new() { ["lr"] = group.LearningRate, ["alpha"] = rmsprop.Options.alpha!, ["eps"] = rmsprop.Options.eps!, ["weightDecay"] = rmsprop.Options.weight_decay!, ["momentum"] = rmsprop.Options.momentum!, ["centered"] = rmsprop.Options.centered! },
            Adagrad.ParamGroup adagrad => new() { ["lr"] = group.LearningRate, ["lrDecay"] = adagrad.Options.lr_decay!, ["weightDecay"] = adagrad.Options.weight_decay!, ["initialAccumulatorValue"] = adagrad.Options.initial_accumulator_value!, ["eps"] = adagrad.Options.eps! },
            _ => throw new InvalidOperationException($"No options reader for {group.GetType()}."),
        };
        return options.ToDictionary(pair => pair.Key, pair => JsonSerializer.SerializeToElement(pair.Value));
    }

    private static bool SameValue(JsonElement left, JsonElement right) => (left.ValueKind, right.ValueKind) switch
    {
        (JsonValueKind.Number, JsonValueKind.Number) => left.GetDouble() == right.GetDouble(),
        (JsonValueKind.Array, JsonValueKind.Array) => left.GetArrayLength() == right.GetArrayLength()
            && left.EnumerateArray().Zip(right.EnumerateArray()).All(pair => SameValue(pair.First, pair.Second)),
        _ => left.ValueKind == right.ValueKind && left.GetRawText() == right.GetRawText(),
    };
}
