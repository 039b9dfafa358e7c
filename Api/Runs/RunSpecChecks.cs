using Experiments.Api.Hosting;
using Experiments.Api.Persistence;
using Experiments.Domain.Datasets;
using Experiments.Domain.Models;
using Experiments.Domain.Runs;
using Experiments.Domain.Validation;
using Experiments.Domain.Workers;
using Experiments.Training.Runtime;
using Microsoft.EntityFrameworkCore;

namespace Experiments.Api.Runs;

/// <summary>A run spec that passed every check, with what it names.</summary>
/// <param name="Spec">The resolved spec: defaults filled in, a seed chosen when none was sent.</param>
/// <param name="Dataset">Its dataset.</param>
/// <param name="Model">Its model version.</param>
/// <param name="Layers">The model's layers with their defaults filled in.</param>
/// <param name="Summary">The model's shapes on the dataset's samples.</param>
public sealed record CheckedRunSpec(RunSpec Spec, Dataset Dataset, ModelDefinition Model, IReadOnlyList<LayerSpec> Layers, ModelSummary Summary);

/// <summary>
/// The checks of a run spec before anything runs, shared by run creation, pre-flight and the range test so that a spec is
/// refused the same way by each: the spec on its own (<see cref="RunSpecValidator.Resolve"/>), its dataset and model,
/// the model against the data (<see cref="RunSpecValidator.CheckFit"/>), the resources it needs
/// (<see cref="RunSpecValidator.CheckResources"/>) and the device.
/// </summary>
public static class RunSpecChecks
{
    /// <param name="spec">The spec as sent.</param>
    /// <param name="randomSeed">The seed used when the spec has none.</param>
    /// <param name="computesHere">
    /// True for a diagnostic, which computes in this process: a <c>cuda</c> run needs a GPU here. False for a run, which a
    /// worker trains: on a web node, a worker serving the GPU queue is enough.
    /// </param>
    /// <param name="db">The catalog.</param>
    /// <param name="deployment">This process's role.</param>
    /// <param name="workers">The workers, for a web node's <c>cuda</c> runs.</param>
    /// <param name="options">The limits on models and memory.</param>
    /// <param name="errors">Where problems are added, by field.</param>
    /// <param name="cancellationToken">Aborts the lookups.</param>
    /// <param name="dataset">The spec's dataset when the caller has read it already (a sweep checking many trials of one dataset).</param>
    /// <param name="model">
    /// The model to check against instead of reading the one <c>modelId</c> names: one the caller has read already, or a sweep's
    /// trial whose layers are searched, checked before its version is saved.
    /// </param>
    public static async Task<CheckedRunSpec?> CheckAsync(
        RunSpec? spec, long randomSeed, bool computesHere, ExperimentsDbContext db, Deployment deployment, IWorkerQueries workers, ExperimentsOptions options,
        ValidationErrors errors, CancellationToken cancellationToken, Dataset? dataset = null, ModelDefinition? model = null)
    {
        var resolved = RunSpecValidator.Resolve(spec, randomSeed, errors);
        if (resolved is null)
        {
            return null;
        }
        dataset ??= await db.Datasets.AsNoTracking().FirstOrDefaultAsync(d => d.Id == resolved.DatasetId, cancellationToken);
        model ??= await db.Models.AsNoTracking().FirstOrDefaultAsync(m => m.Id == resolved.ModelId, cancellationToken);
        if (dataset is null)
        {
            errors.Add("datasetId", $"no dataset has id {resolved.DatasetId}; import one with POST /api/datasets or list them with GET /api/datasets.");
        }
        if (model is null)
        {
            errors.Add("modelId", $"no model has id {resolved.ModelId}; create one with POST /api/models or list them with GET /api/models.");
        }
        ModelSummary? summary = null;
        if (dataset is not null && model is not null && RunSpecValidator.CheckFit(resolved, dataset, model, errors) is { } fits
            && RunSpecValidator.CheckResources(resolved, model, fits, options.Limits(DeviceMemoryBytes(resolved.Device!.Value)), errors))
        {
            summary = fits;
        }
        if (resolved.Device == TrainingDevice.Cuda && (computesHere || deployment.Role == NodeRole.All) && !TorchRuntime.Describe().CudaAvailable)
        {
            errors.Add("device", computesHere && deployment.Role == NodeRole.Web
                ? "'cuda' was requested but this web node, which computes the check, sees no CUDA GPU; check the spec with 'auto' or 'cpu' (the timing is then the CPU's)."
                : "'cuda' was requested but this service sees no CUDA GPU; use 'auto' or 'cpu' (see README, \"Training on a GPU\").");
        }
        else if (resolved.Device == TrainingDevice.Cuda && !computesHere && deployment.Role == NodeRole.Web
            && !(await workers.ListAsync(cancellationToken)).Any(worker => worker.Status == WorkerStatus.Active && worker.Queues.Contains(TrainRunJob.GpuQueue)))
        {
            errors.Add("device", $"'cuda' was requested but no active worker serves the '{TrainRunJob.GpuQueue}' queue (GET /api/workers); start a worker "
                + "on a machine with a GPU, or use 'auto' or 'cpu' (see docs/deploy.md).");
        }
        if (!errors.IsEmpty || summary is null)
        {
            return null;
        }
        return new CheckedRunSpec(resolved, dataset!, model!, ModelValidator.Resolve(model!.Layers, errors)!, summary);
    }

    /// <summary>
    /// The memory of the device a run will train on. The CPU: what the runtime sees as available to this process (physical
    /// memory, or the container's limit), the ceiling a queued run meets whatever runs beside it; not the memory free now,
    /// which changes before the run starts. A CUDA GPU: unknown, since TorchSharp offers no query of a GPU's memory, so
    /// only the configured limit applies.
    /// </summary>
    private static long? DeviceMemoryBytes(TrainingDevice device) =>
        device == TrainingDevice.Cpu || !TorchRuntime.Describe().CudaAvailable ? GC.GetGCMemoryInfo().TotalAvailableMemoryBytes : null;
}
