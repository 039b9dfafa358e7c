using System.Text.Json;
using Experiments.Domain;
using Experiments.Domain.Datasets;
using Experiments.Domain.Models;
using Experiments.Domain.Runs;
using Experiments.Domain.Sweeps;
using Experiments.Domain.Workers;
using Experiments.Web.Live;

namespace Experiments.Tests.Web;

/// <summary>Live events a test pushes by hand, to the subscriptions the components made.</summary>
public sealed class FakeRunEvents : IRunEvents
{
    private readonly List<(Guid? RunId, RunEventHandlers Handlers)> _subscriptions = [];

    public IReadOnlyList<Guid?> Subscribed => [.. _subscriptions.Select(subscription => subscription.RunId)];

    public Task<IAsyncDisposable> SubscribeAsync(Guid? runId, RunEventHandlers handlers, CancellationToken cancellationToken)
    {
        var subscription = (runId, handlers);
        _subscriptions.Add(subscription);
        return Task.FromResult<IAsyncDisposable>(new Unsubscribe(() => _subscriptions.Remove(subscription)));
    }

    public Task PushAsync(Guid runId, Func<RunEventHandlers, Func<Task>?> handler) =>
        Task.WhenAll(_subscriptions.Where(s => s.RunId is null || s.RunId == runId).Select(s => handler(s.Handlers)?.Invoke() ?? Task.CompletedTask));

    public Task EpochAsync(Guid runId, EpochMetric metric) =>
        PushAsync(runId, handlers => handlers.EpochCompleted is { } handle ? () => handle(new EpochCompleted(runId, metric)) : null);

    public Task BatchAsync(Guid runId, int epoch, int batch, int batchesPerEpoch = 30) =>
        PushAsync(runId, handlers => handlers.BatchProgress is { } handle ? () => handle(new BatchProgress(runId, epoch, batch, batchesPerEpoch, 0.5)) : null);

    public Task StatusAsync(Guid runId, RunStatus status) =>
        PushAsync(runId, handlers => handlers.StatusChanged is { } handle ? () => handle(new RunStatusChanged(runId, status, null, null, DateTimeOffset.UtcNow)) : null);

    /// <summary>What the hub client does after it reconnected.</summary>
    public Task ReconnectAsync() =>
        Task.WhenAll(_subscriptions.Select(s => s.Handlers.CatchUp?.Invoke() ?? Task.CompletedTask));

    private sealed class Unsubscribe(Action action) : IAsyncDisposable
    {
        public ValueTask DisposeAsync()
        {
            action();
            return ValueTask.CompletedTask;
        }
    }
}

/// <summary>Runs held in memory; remembers the filters it was asked for.</summary>
public sealed class FakeRunQueries : IRunQueries
{
    public List<RunListItem> Items { get; } = [];

    public Dictionary<Guid, RunView> Runs { get; } = [];

    public List<RunLogLine> Logs { get; } = [];

    public List<(RunFilter Filter, int Page, int PageSize)> Listed { get; } = [];

    /// <summary>How many times a run was read with <see cref="GetAsync"/>.</summary>
    public int Gets { get; private set; }

    public Task<Page<RunListItem>> ListAsync(RunFilter filter, int page, int pageSize, CancellationToken cancellationToken)
    {
        Listed.Add((filter, page, pageSize));
        var matching = Items.Where(run => filter.Status is null || run.Status == filter.Status).ToList();
        return Task.FromResult(new Page<RunListItem>([.. matching.Skip((page - 1) * pageSize).Take(pageSize)], page, pageSize, matching.Count));
    }

    public Task<RunView?> GetAsync(Guid id, CancellationToken cancellationToken)
    {
        Gets++;
        return Task.FromResult(Runs.GetValueOrDefault(id));
    }

    public Task<RunMetricSeries?> MetricsAsync(Guid id, CancellationToken cancellationToken) => throw new NotSupportedException("The dashboard reads metrics with GetAsync.");

    public Task<Page<RunLogLine>?> LogsAsync(Guid id, int page, int pageSize, CancellationToken cancellationToken) =>
        Task.FromResult<Page<RunLogLine>?>(new Page<RunLogLine>([.. Logs.Skip((page - 1) * pageSize).Take(pageSize)], page, pageSize, Logs.Count));

    /// <summary>The layer snapshots of each run, in step order.</summary>
    public Dictionary<Guid, List<LayerSnapshot>> Snapshots { get; } = [];

    public Task<RunLayerSeries?> LayersAsync(Guid id, long? from, long? to, string? layer, CancellationToken cancellationToken) =>
        Task.FromResult<RunLayerSeries?>(RunLayerSeries.From(
            [.. Snapshots.GetValueOrDefault(id, []).Where(snapshot => snapshot.Step >= (from ?? 0) && snapshot.Step <= (to ?? long.MaxValue))], null, layer));
}

/// <summary>Sweeps held in memory, listed in the order a test adds them (the real query lists the newest first).</summary>
public sealed class FakeSweepQueries : ISweepQueries
{
    public List<SweepListItem> Items { get; } = [];

    public Dictionary<Guid, SweepView> Sweeps { get; } = [];

    /// <summary>How many times a sweep was read with <see cref="GetAsync"/>.</summary>
    public int Gets { get; private set; }

    public Task<Page<SweepListItem>> ListAsync(int page, int pageSize, CancellationToken cancellationToken) =>
        Task.FromResult(new Page<SweepListItem>([.. Items.Skip((page - 1) * pageSize).Take(pageSize)], page, pageSize, Items.Count));

    public Task<SweepView?> GetAsync(Guid id, CancellationToken cancellationToken)
    {
        Gets++;
        return Task.FromResult(Sweeps.GetValueOrDefault(id));
    }
}

public sealed class FakeDatasetQueries : IDatasetQueries
{
    public List<DatasetView> Items { get; } = [];

    public Task<Page<DatasetView>> ListAsync(int page, int pageSize, CancellationToken cancellationToken, string? createdBy = null) =>
        Task.FromResult(new Page<DatasetView>(Items, page, pageSize, Items.Count));

    public Task<DatasetView?> GetAsync(Guid id, CancellationToken cancellationToken) => Task.FromResult(Items.FirstOrDefault(d => d.Id == id));

    /// <summary>Per dataset and split (true: test), the samples a preview answers with.</summary>
    public Dictionary<(Guid Id, bool Test), DatasetPreview> Previews { get; } = [];

    /// <summary>The previews asked for, in order.</summary>
    public List<(Guid Id, bool Test, int Count)> Previewed { get; } = [];

    public Task<DatasetPreview?> PreviewAsync(Guid id, bool testSplit, int count, CancellationToken cancellationToken)
    {
        Previewed.Add((id, testSplit, count));
        return Task.FromResult(Previews.TryGetValue((id, testSplit), out var preview)
            ? preview with { Samples = [.. preview.Samples.Take(count)] }
            : null);
    }
}

public sealed class FakeModelQueries : IModelQueries
{
    public List<ModelView> Items { get; } = [];

    public Task<Page<ModelView>> ListAsync(int page, int pageSize, CancellationToken cancellationToken, string? createdBy = null) =>
        Task.FromResult(new Page<ModelView>(Items, page, pageSize, Items.Count));

    public Task<ModelView?> GetAsync(Guid id, CancellationToken cancellationToken) => Task.FromResult(Items.FirstOrDefault(m => m.Id == id));
}

/// <summary>Workers held in memory, listed in the order a test adds them (the real query puts active ones first).</summary>
public sealed class FakeWorkerQueries : IWorkerQueries
{
    public List<WorkerView> Items { get; } = [];

    /// <summary>How many times the list was read.</summary>
    public int Lists { get; private set; }

    /// <summary>Thrown by the next read, as a database that cannot be reached does; then cleared.</summary>
    public Exception? FailNext { get; set; }

    public Task<IReadOnlyList<WorkerView>> ListAsync(CancellationToken cancellationToken)
    {
        Lists++;
        if (FailNext is { } failure)
        {
            FailNext = null;
            return Task.FromException<IReadOnlyList<WorkerView>>(failure);
        }
        return Task.FromResult<IReadOnlyList<WorkerView>>([.. Items]);
    }
}

public static class Samples
{
    public static EpochMetric Epoch(int epoch, double? testAccuracy = 0.5) =>
        new(epoch, 1.0 / epoch, 0.5, 1.0 / epoch, testAccuracy, 0.01, 1, 0.1, 1000);

    public static RunListItem ListItem(RunStatus status = RunStatus.Running, int epochsCompleted = 0) =>
        new(Guid.NewGuid(), status, null, Guid.NewGuid(), "iris", Guid.NewGuid(), "iris-mlp", 1, "adam", epochsCompleted, 10, null, null,
            null, DateTimeOffset.UtcNow, null, DateTimeOffset.UtcNow, null);

    /// <summary>A classification dataset of samples of <paramref name="shape"/> with one class per name.</summary>
    public static DatasetView Dataset(string name, int[] shape, string[] classNames, int train = 120, int test = 30) =>
        new(Guid.NewGuid(), name, DatasetFormat.Csv, $"{name}.csv", DatasetTask.Classification, shape, shape, "float32", classNames.Length, classNames,
            [.. classNames.Select(_ => (train + test) / classNames.Length)], 1, train, test, SplitSource.HeldOut, 0.2, 0,
            new FeatureStatistics(0, 1, 0.5, 0.25), null, new PreprocessingView(null, false, null, null, null), 1024, "hash", DateTimeOffset.UtcNow, null);

    /// <summary>The first samples of a split: the values of <paramref name="samples"/> as rows, or images when <paramref name="images"/>.</summary>
    public static DatasetPreview Preview(DatasetView dataset, bool test, bool images, params (float[] Values, string Label)[] samples) =>
        new(dataset.Id, test ? "test" : "train", dataset.SampleShape, images,
            [.. samples.Select((sample, index) => new PreviewSample(index, sample.Label, null, images ? null : sample.Values,
                images ? $"data:image/png;base64,{Convert.ToBase64String([.. sample.Values.Select(value => (byte)value)])}" : null))]);

    public static WorkerView Worker(string name, WorkerStatus status, DateTimeOffset lastHeartbeatAt, params Guid[] currentRuns) =>
        new(name, status, "gpu-box-1", 4242, "cuda", 2, ["gpu", "training"], 8, currentRuns, lastHeartbeatAt - TimeSpan.FromHours(1), lastHeartbeatAt,
            status == WorkerStatus.Stopped ? lastHeartbeatAt : null);

    public static RunView Run(Guid id, RunStatus status, params EpochMetric[] metrics) =>
        new(id, status, null, null, Guid.NewGuid(), "iris", Guid.NewGuid(), "iris-mlp", 1,
            new RunSpec { Epochs = 5, BatchSize = 16, Seed = 7, Optimizer = new Experiments.Domain.Optimizers.OptimizerSpec("adam"), Loss = new Experiments.Domain.Losses.LossSpec("crossEntropy") },
            null, false, metrics.Length, metrics.LastOrDefault()?.TestAccuracy, metrics.Max(m => m.TestAccuracy), null, metrics.LastOrDefault(),
            DateTimeOffset.UtcNow, null, DateTimeOffset.UtcNow, null, 0, null, 0, null, [], null, metrics);
}

/// <summary>Sweeps as the query answers them: resolved specs, trials with their values, best, budget and importance derived from the trials.</summary>
public static class SweepSamples
{
    /// <summary>A grid over <c>optimizer.lr</c> (a choice) and <c>layers[0].outFeatures</c> (logInt 4 to 32), asha, 8 epochs a trial, on validation accuracy.</summary>
    public static SweepSpec Spec(SweepGoal goal = SweepGoal.Maximize) => new()
    {
        Name = "iris lr",
        Base = new RunSpec { Epochs = 8, BatchSize = 16, Seed = 7, ValidationFraction = 0.1 },
        Parameters = new Dictionary<string, SweepParameter>
        {
            ["optimizer.lr"] = new() { Type = ParameterDistribution.Choice, Values = [Json(0.001), Json(0.01), Json(0.1), Json(0.3)] },
            ["layers[0].outFeatures"] = new() { Type = ParameterDistribution.LogInt, Min = 4, Max = 32 },
        },
        Method = SweepMethod.Grid,
        Metric = SweepMetric.ValidationAccuracy,
        Goal = goal,
        Budget = new SweepBudget { MaxTrials = 8, Concurrency = 2 },
        EarlyTermination = new EarlyTerminationSpec { Type = EarlyTerminationType.Asha, MinEpochs = 1, MaxEpochs = 8, ReductionFactor = 2, MinTrials = 2 },
        Seed = 7,
    };

    public static TrialView Trial(int number, RunStatus status, double? value, double lr, int width, int epochsCompleted = 8, TrialPruning? pruning = null) =>
        new(number, Guid.NewGuid(), status, pruning is not null ? StopReason.Pruned : status == RunStatus.Succeeded ? StopReason.EpochsCompleted : null,
            new Dictionary<string, JsonElement> { ["optimizer.lr"] = Json(lr), ["layers[0].outFeatures"] = Json(width) }, epochsCompleted, 8, value, pruning, null);

    public static TrialPruning Pruning(int epoch, double value, double threshold) =>
        new("asha", epoch, value, threshold, 4, $"pruned by asha at rung {epoch}: validation accuracy {value} is not among the best 2 of the 4 trials that reached epoch {epoch} (1/2 of them, at least {threshold})");

    public static SweepView Sweep(SweepStatus status, IReadOnlyList<TrialView> trials, string? createdBy = null, SweepSpec? spec = null)
    {
        spec ??= Spec();
        var best = trials.Where(trial => trial.Value is not null)
            .OrderBy(trial => spec.Goal == SweepGoal.Minimize ? trial.Value : -trial.Value).ThenBy(trial => trial.Number).FirstOrDefault();
        var budget = new SweepBudgetUse(spec.Budget!.MaxTrials, trials.Count, spec.Budget.Concurrency ?? 1, spec.Budget.MaxEpochs, trials.Sum(trial => trial.EpochsCompleted),
            trials.Where(trial => trial.StopReason == StopReason.Pruned).Sum(trial => trial.Epochs - trial.EpochsCompleted));
        return new SweepView(Guid.NewGuid(), spec.Name, status, null, false, Guid.NewGuid(), "iris", spec, budget, best, trials, ParameterImportances.Of(trials),
            DateTimeOffset.UtcNow, createdBy, status == SweepStatus.Running ? null : DateTimeOffset.UtcNow);
    }

    public static JsonElement Json(object value) => JsonSerializer.SerializeToElement(value);
}

/// <summary>
/// The service's REST API as the dashboard's <see cref="Experiments.Web.Services.ExperimentsClient"/> reaches it: every
/// request is recorded, and POST /api/models/validate is answered by the model validator the endpoint uses.
/// </summary>
public sealed class FakeApi : HttpMessageHandler
{
    public List<(string Path, string Body)> Requests { get; } = [];

    /// <summary>Every request's address, its query included.</summary>
    public List<Uri> Addresses { get; } = [];

    /// <summary>Answers a test gives for paths, by path, when it wants them: a pending task holds the request until it is completed.</summary>
    public Dictionary<string, Task<HttpResponseMessage>> Answers { get; } = [];

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var body = request.Content is null ? "" : await request.Content.ReadAsStringAsync(cancellationToken);
        var path = request.RequestUri!.AbsolutePath;
        Requests.Add((path, body));
        Addresses.Add(request.RequestUri);
        if (Answers.TryGetValue(path, out var answer))
        {
            return await answer;
        }
        if (path != "/api/models/validate")
        {
            return new HttpResponseMessage(System.Net.HttpStatusCode.NotFound);
        }
        var sent = System.Text.Json.JsonSerializer.Deserialize<ValidateModelRequest>(body, JsonConventions.Web)!;
        var errors = new Experiments.Domain.Validation.ValidationErrors();
        var layers = ModelValidator.Resolve(sent.Layers, errors);
        var summary = layers is null ? null : ModelValidator.InferShapes(layers, sent.InputShape!, errors);
        if (summary is null || !errors.IsEmpty)
        {
            return new HttpResponseMessage(System.Net.HttpStatusCode.BadRequest)
            {
                Content = System.Net.Http.Json.JsonContent.Create(new { title = "The model is not valid.", errors = errors.ToDictionary() }),
            };
        }
        return new HttpResponseMessage(System.Net.HttpStatusCode.OK)
        {
            Content = System.Net.Http.Json.JsonContent.Create(ModelValidation.From(summary, 32), options: JsonConventions.Web),
        };
    }
}
