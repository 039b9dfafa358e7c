using Experiments.Domain.Datasets;
using Experiments.Training.Inference;
using Microsoft.Extensions.Options;

namespace Experiments.Api.Hosting;

/// <summary>
/// Where the files of datasets and runs live: the one place that knows their layout, so that another store (an object
/// store with a local cache) can take the data folder's place. What every implementation guarantees, and what the
/// trainer and importer rely on: a path it hands out is a local file; a writer writes <c>{path}.partial</c> beside it and
/// renames that over <c>{path}</c>, which is atomic, so a reader on any node sees the whole previous file or the whole
/// new one, never part of one (docs/deploy.md, "The shared data folder").
/// </summary>
public interface IArtifactStore
{
    /// <summary>The dataset's tensors (<see cref="Training.Data.DatasetFile"/>).</summary>
    string TensorFilePath(Dataset dataset);

    /// <summary>The run's last checkpoint: what a resume, on any worker, continues from.</summary>
    string CheckpointPath(Guid runId);

    /// <summary>The run's trained weights, written when it ends.</summary>
    string WeightsPath(Guid runId);

    /// <summary>The weights of the run's best epoch, rewritten whenever an epoch improves on the best.</summary>
    string BestWeightsPath(Guid runId);

    /// <summary>The run's final, last-checkpoint and best weights together, as <see cref="TrainedModel.Load"/> takes them.</summary>
    RunWeightFiles WeightFiles(Guid runId);

    /// <summary>Removes the dataset's tensors; nothing happens when they are gone already.</summary>
    void DeleteDataset(Dataset dataset);

    /// <summary>Removes everything of the run; nothing happens when it is gone already.</summary>
    void DeleteRun(Guid runId);
}

/// <summary>
/// The artifacts in <c>Experiments:DataFolder</c>: <c>datasets/{id}.bin</c> and <c>runs/{id}/checkpoint.bin</c>,
/// <c>runs/{id}/weights.bin</c>, <c>runs/{id}/best.bin</c>. Every node of a deployment mounts the same folder.
/// </summary>
public sealed class DataFolderArtifacts(IOptions<ExperimentsOptions> options) : IArtifactStore
{
    private readonly ExperimentsOptions _options = options.Value;

    public string TensorFilePath(Dataset dataset) => Path.Combine(_options.DatasetsFolderPath, dataset.TensorFile);

    public string CheckpointPath(Guid runId) => Path.Combine(RunFolderPath(runId), "checkpoint.bin");

    public string WeightsPath(Guid runId) => Path.Combine(RunFolderPath(runId), "weights.bin");

    public string BestWeightsPath(Guid runId) => Path.Combine(RunFolderPath(runId), "best.bin");

    public RunWeightFiles WeightFiles(Guid runId) => new(WeightsPath(runId), CheckpointPath(runId), BestWeightsPath(runId));

    public void DeleteDataset(Dataset dataset) => File.Delete(TensorFilePath(dataset));

    public void DeleteRun(Guid runId)
    {
        var folder = RunFolderPath(runId);
        if (Directory.Exists(folder))
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    private string RunFolderPath(Guid runId) => Path.Combine(_options.RunsFolderPath, runId.ToString("N"));
}
