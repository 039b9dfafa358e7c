using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Experiments.Domain;
using Experiments.Domain.Models;
using Experiments.Domain.Runs;
using Experiments.Domain.Sweeps;
using Experiments.Domain.Validation;

namespace Experiments.Api.Sweeps;

/// <summary>A trial's run spec before its checks: the base with the trial's values set, and the model's layers when a value changed them.</summary>
/// <param name="Spec">The run spec, as a user would send it.</param>
/// <param name="Model">The model it names (its layers as saved).</param>
/// <param name="ChangedLayers">The layers with the trial's values set, when a <c>layers[…]</c> value changed them; the trial trains a version holding them.</param>
/// <param name="Parameters">The values set, by path.</param>
public sealed record TrialSpec(RunSpec Spec, ModelDefinition Model, IReadOnlyList<LayerSpec>? ChangedLayers, IReadOnlyDictionary<string, JsonElement> Parameters);

/// <summary>
/// Builds a trial's run spec from the sweep's base and the trial's values: each value set at its path in the base as JSON,
/// <c>layers[…]</c> values in the layers of the model the trial names, then read back as a run spec with the same strict
/// rules as a request body.
/// </summary>
public static class TrialSpecs
{
    private static readonly JsonSerializerOptions Writing = new(JsonConventions.Web) { DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull };

    private static readonly JsonSerializerOptions Reading = JsonConventions.ApplyToRequests(new JsonSerializerOptions(JsonSerializerDefaults.Web));

    /// <summary>The trial's spec, or null with the problems added under the dimensions' keys.</summary>
    /// <param name="baseSpec">The sweep's resolved base.</param>
    /// <param name="space">The sweep's space.</param>
    /// <param name="values">The trial's values.</param>
    /// <param name="models">Looks a model version up by id (null when there is none).</param>
    /// <param name="errors">Where problems are added.</param>
    public static async Task<TrialSpec?> BuildAsync(RunSpec baseSpec, SearchSpace space, TrialValues values, Func<Guid, Task<ModelDefinition?>> models, ValidationErrors errors)
    {
        var document = JsonSerializer.SerializeToNode(baseSpec, Writing)!.AsObject();
        var parameters = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
        var problems = new ValidationErrors();
        var modelKey = "base.modelId";
        for (var d = 0; d < space.Dimensions.Count; d++)
        {
            if (values.Values[d] is not { } value || space.Dimensions[d].Path.IsLayers)
            {
                continue;
            }
            var dimension = space.Dimensions[d];
            if (dimension.Path.Text == "modelId")
            {
                modelKey = dimension.Key;
            }
            parameters[dimension.Path.Text] = value;
            if (dimension.Path.Set(document, JsonNode.Parse(value.GetRawText())) is { } problem)
            {
                problems.Add(dimension.Key, problem);
            }
        }
        RunSpec? spec = null;
        try
        {
            spec = document.Deserialize<RunSpec>(Reading);
        }
        catch (JsonException invalid)
        {
            problems.Add(ProblemKey(space, values, invalid.Path), $"the trial's run spec cannot be read: {Readable(invalid)}");
        }
        ModelDefinition? model = null;
        if (spec is not null)
        {
            model = spec.ModelId == Guid.Empty ? null : await models(spec.ModelId);
            if (model is null)
            {
                problems.Add(modelKey, $"no model has id {spec.ModelId}; list the models with GET /api/models.");
            }
        }
        IReadOnlyList<LayerSpec>? changed = null;
        var layerDimensions = Enumerable.Range(0, space.Dimensions.Count).Where(d => values.Values[d] is not null && space.Dimensions[d].Path.IsLayers).ToList();
        if (model is not null && layerDimensions.Count > 0)
        {
            var layersDocument = new JsonObject { [SpecPath.Layers] = JsonSerializer.SerializeToNode(model.Layers, Writing) };
            foreach (var d in layerDimensions)
            {
                var dimension = space.Dimensions[d];
                parameters[dimension.Path.Text] = values.Values[d]!.Value;
                if (dimension.Path.Set(layersDocument, JsonNode.Parse(values.Values[d]!.Value.GetRawText())) is { } problem)
                {
                    problems.Add(dimension.Key, dimension.Path.Segments[1] is int index && index >= model.Layers.Count
                        ? $"{problem} (model '{model.Name}' v{model.Version} has {model.Layers.Count} layers)"
                        : problem);
                }
            }
            try
            {
                var layers = layersDocument[SpecPath.Layers].Deserialize<List<LayerSpec>>(Reading);
                if (layers is null || layers.Any(layer => layer is null))
                {
                    problems.Add(space.Dimensions[layerDimensions[0]].Key, "a layer cannot be null: a layer is an object such as {\"type\": \"relu\"}.");
                }
                else if (JsonSerializer.Serialize(layers, Writing) != JsonSerializer.Serialize(model.Layers, Writing))
                {
                    changed = layers;
                }
            }
            catch (JsonException invalid)
            {
                problems.Add(space.Dimensions[layerDimensions[0]].Key, $"the trial's layers cannot be read: {Readable(invalid)}");
            }
        }
        errors.AddRange(problems);
        return problems.IsEmpty ? new TrialSpec(spec!, model!, changed, parameters) : null;
    }

    /// <summary>The model the trial trains: its own when its layers are unchanged, else an unsaved copy holding the changed layers.</summary>
    public static ModelDefinition ModelOf(TrialSpec trial) => trial.ChangedLayers is { } layers
        ? new ModelDefinition(trial.Spec.ModelId, trial.Model.Name, trial.Model.Version, layers, trial.Model.CreatedAt)
        : trial.Model;

    /// <summary>The name of the model versions that hold a sweep's changed layers: the base model's, marked with the sweep.</summary>
    public static string ModelName(ModelDefinition model, Guid sweepId)
    {
        var suffix = $" (sweep {sweepId.ToString("N")[..8]})";
        var name = model.Name.Length + suffix.Length > Models.ModelsApi.MaxNameLength ? model.Name[..(Models.ModelsApi.MaxNameLength - suffix.Length)] : model.Name;
        return name + suffix;
    }

    /// <summary>
    /// A JSON error in words: System.Text.Json's own message names .NET types ("could not be converted to System.Guid"), so a
    /// value of the wrong kind is said plainly, with where it is.
    /// </summary>
    private static string Readable(JsonException invalid)
    {
        var where = invalid.Path?.TrimStart('$', '.') is { Length: > 0 } path ? $" at {path}" : "";
        return invalid.Message.Contains("could not be converted", StringComparison.Ordinal)
            ? $"a value{where} is of the wrong kind (text where a number or an id is expected, or the reverse)."
            : $"{invalid.Message.Split(" Path:", 2)[0]}{where}";
    }

    /// <summary>The key of the searched field a JSON error's path (<c>$.batchSize</c>) points into, else the base.</summary>
    private static string ProblemKey(SearchSpace space, TrialValues values, string? jsonPath)
    {
        var path = jsonPath?.TrimStart('$', '.') ?? "";
        for (var d = 0; d < space.Dimensions.Count; d++)
        {
            var searched = space.Dimensions[d].Path.Text;
            if (values.Values[d] is not null && (path == searched || path.StartsWith(searched + ".", StringComparison.Ordinal) || path.StartsWith(searched + "[", StringComparison.Ordinal)))
            {
                return space.Dimensions[d].Key;
            }
        }
        return path.Length == 0 ? "base" : $"base.{path}";
    }

    /// <summary>
    /// The trials that check a space before a sweep starts: for each value of each choice, and each end of each range, a trial
    /// with that value, its option chosen when it belongs to a sub-space, and every other field at its first value (a range at
    /// its low end). A value that fails the checks fails the sweep's request, naming it.
    /// </summary>
    public static IEnumerable<(int Dimension, JsonElement Value, TrialValues Values)> Probes(SearchSpace space)
    {
        for (var d = 0; d < space.Dimensions.Count; d++)
        {
            var dimension = space.Dimensions[d];
            IEnumerable<JsonElement> checkedValues = dimension.IsNumeric
                ? [SearchDimension.Number(dimension.Min, dimension.IsInteger), SearchDimension.Number(dimension.Max, dimension.IsInteger)]
                : dimension.Values;
            foreach (var value in checkedValues.DistinctBy(SearchSpace.Canonical))
            {
                var values = new JsonElement?[space.Dimensions.Count];
                for (var other = 0; other < values.Length; other++)
                {
                    if (!space.IsActive(other, values))
                    {
                        continue;
                    }
                    var otherDimension = space.Dimensions[other];
                    values[other] = other == d ? value
                        : dimension.Parent == other ? otherDimension.Values[dimension.ParentOption]
                        : otherDimension.IsNumeric ? SearchDimension.Number(otherDimension.Min, otherDimension.IsInteger)
                        : otherDimension.Values[0];
                }
                yield return (d, value, new TrialValues(values));
            }
        }
    }
}
