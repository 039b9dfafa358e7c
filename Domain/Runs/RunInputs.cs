using Experiments.Domain.Datasets;
using Experiments.Domain.Models;
using Experiments.Domain.Validation;

namespace Experiments.Domain.Runs;

/// <summary>A run with the dataset and the model version it trains: what training, evaluation, prediction and export start from.</summary>
public sealed record RunInputs(Run Run, Dataset Dataset, ModelDefinition Model)
{
    /// <summary>
    /// The model's resolved layers and shapes for the run's dataset. Both were checked when the run was created
    /// and are immutable, so this fails only on a bug.
    /// </summary>
    public (IReadOnlyList<LayerSpec> Layers, ModelSummary Summary) ResolveModel()
    {
        var errors = new ValidationErrors();
        var summary = RunSpecValidator.CheckFit(Run.Spec, Dataset, Model, errors)
            ?? throw new InvalidOperationException($"the model no longer fits the dataset: {errors}");
        return (ModelValidator.Resolve(Model.Layers, errors)!, summary);
    }
}
