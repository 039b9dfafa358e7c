using System.Globalization;
using System.Security.Cryptography;
using Experiments.Api.Hosting;
using Experiments.Api.Persistence;
using Experiments.Domain.Access;
using Experiments.Domain.Runs;
using Experiments.Domain.Validation;
using Experiments.Domain.Workers;
using Experiments.Training.Data;
using Experiments.Training.Diagnostics;
using Experiments.Training.Runtime;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace Experiments.Api.Runs;

/// <summary>
/// Checks of a run spec that compute before anything is queued: pre-flight and the learning-rate range test. The spec is
/// checked exactly as <c>POST /api/runs</c> checks it (<see cref="RunSpecChecks"/>); nothing is stored. They train on this
/// process, so they need an editor, as creating a run does, and take turns (<see cref="DiagnosticsGate"/>).
/// </summary>
public static class DiagnosticsApi
{
    /// <summary>The most steps of pre-flight's overfit-one-batch check.</summary>
    public const int MaxOverfitSteps = 1000;

    public static RouteGroupBuilder MapRunDiagnostics(this RouteGroupBuilder group)
    {
        group.MapPost("/preflight", Preflight)
            .WithName("preflightRun")
            .RequireAuthorization(Policies.Editor)
            .DescribesQuery("overfitSteps", minimum: 0, maximum: MaxOverfitSteps, defaultValue: 0)
            .WithSummary("Check a run before starting it: shapes, FLOPs, memory, ETA, loss at initialisation, gradient flow and the data")
            .WithDescription("Takes the body of POST /api/runs and checks it the same way (the same 400s), then, on the run's data and device, "
                + "within seconds and without storing anything: the layer table (output shape, parameters and forward FLOPs per sample), the memory "
                + "estimate, the time of a few real training batches and of evaluation and so the run's ETA; the first batch's loss on the run's initial "
                + "weights against ln C (crossEntropy and nll over C classes); every parameter tensor's gradient on that batch (those that get none are "
                + "named); class balance and label distribution of each split, test (and validation) samples equal to training samples, constant "
                + "features. `overfitSteps` (0 to 1000, default 0 = off) trains a fresh copy on the first batch alone and says whether the loss approached "
                + "zero. `warnings` lists every problem found with its fix. The timing is taken beside whatever this process trains meanwhile.");
        group.MapPost("/lr-range-test", RangeTest)
            .WithName("lrRangeTestRun")
            .RequireAuthorization(Policies.Editor)
            .DescribesQuery("minLr", defaultValue: LearningRateRangeTestResult.DefaultMinLr)
            .DescribesQuery("maxLr", defaultValue: LearningRateRangeTestResult.DefaultMaxLr)
            .DescribesQuery("steps", minimum: LearningRateRangeTestResult.MinSteps, maximum: LearningRateRangeTestResult.MaxSteps, defaultValue: LearningRateRangeTestResult.DefaultSteps)
            .WithSummary("Find a learning rate: an exponential sweep from minLr to maxLr over training batches, and a suggestion")
            .WithDescription("Takes the body of POST /api/runs and checks it the same way. A fresh copy of the model trains with the spec's optimizer "
                + "while its learning rate grows exponentially from `minLr` (default 1e-8) to `maxLr` (default 1) over `steps` batches (10 to 1000, "
                + "default 100), stopping when the loss is not finite or its running average exceeds 4 times its best. Answers the learning rates, the "
                + "losses, the smoothed losses (a bias-corrected exponential moving average with β = 1 − 10/steps, run forward and back so that it does not lag) and "
                + "the suggestion: the steepest descent of the smoothed loss "
                + "against log(lr) after the first tenth of the sweep and before the smoothed loss's minimum (never above it), and how it was chosen. "
                + "Put it in optimizer.lr. Nothing is stored.");
        return group;
    }

    /// <summary>What both diagnostics need besides their own query parameters.</summary>
    public sealed record DiagnosticServices(
        HttpContext Context,
        ExperimentsDbContext Db,
        IArtifactStore Artifacts,
        Deployment Deployment,
        IWorkerQueries Workers,
        IOptions<ExperimentsOptions> Options,
        DiagnosticsGate Gate);

    public static Task<Results<Ok<PreflightReport>, ValidationProblem, ProblemHttpResult>> Preflight(
        RunSpec? spec, int? overfitSteps, [AsParameters] DiagnosticServices services, CancellationToken cancellationToken)
    {
        var errors = new ValidationErrors();
        if (overfitSteps is < 0 or > MaxOverfitSteps)
        {
            errors.Add("overfitSteps", $"must be between 0 (no overfit check) and {MaxOverfitSteps}, e.g. 100; got {overfitSteps}.");
        }
        return ComputeAsync(spec, errors, "check", services,
            (inputs, data, limit) => Training.Diagnostics.Preflight.Run(inputs, data, overfitSteps ?? 0, limit, cancellationToken), cancellationToken);
    }

    public static Task<Results<Ok<LearningRateRangeTestResult>, ValidationProblem, ProblemHttpResult>> RangeTest(
        RunSpec? spec, double? minLr, double? maxLr, int? steps, [AsParameters] DiagnosticServices services, CancellationToken cancellationToken)
    {
        var errors = new ValidationErrors();
        var (low, high, count) = (minLr ?? LearningRateRangeTestResult.DefaultMinLr, maxLr ?? LearningRateRangeTestResult.DefaultMaxLr,
            steps ?? LearningRateRangeTestResult.DefaultSteps);
        if (!double.IsFinite(low) || low <= 0)
        {
            errors.Add("minLr", $"must be a finite number greater than 0, e.g. 1e-8; got {Show(low)}.");
        }
        if (!double.IsFinite(high) || high <= 0)
        {
            errors.Add("maxLr", $"must be a finite number greater than 0, e.g. 1; got {Show(high)}.");
        }
        else if (double.IsFinite(low) && low > 0 && high <= low)
        {
            errors.Add("maxLr", $"must be greater than minLr ({Show(low)}); got {Show(high)}.");
        }
        if (count is < LearningRateRangeTestResult.MinSteps or > LearningRateRangeTestResult.MaxSteps)
        {
            errors.Add("steps", $"must be between {LearningRateRangeTestResult.MinSteps} and {LearningRateRangeTestResult.MaxSteps}, e.g. {LearningRateRangeTestResult.DefaultSteps}; got {count}.");
        }
        return ComputeAsync(spec, errors, "range test", services,
            (inputs, data, limit) => LearningRateRangeTest.Run(inputs, data, low, high, count, limit, cancellationToken), cancellationToken);
    }

    /// <summary>
    /// Checks the spec as run creation does (with the query's <paramref name="errors"/>), takes a permit, reads the dataset
    /// and computes on a thread of its own.
    /// </summary>
    private static async Task<Results<Ok<T>, ValidationProblem, ProblemHttpResult>> ComputeAsync<T>(
        RunSpec? spec, ValidationErrors errors, string what, DiagnosticServices services, Func<DiagnosticInputs, LoadedDataset, TimeSpan, T> compute,
        CancellationToken cancellationToken)
    {
        var options = services.Options.Value;
        var run = await RunSpecChecks.CheckAsync(spec, RandomNumberGenerator.GetInt32(int.MaxValue), computesHere: true, services.Db, services.Deployment,
            services.Workers, options, errors, cancellationToken);
        if (run is null || !errors.IsEmpty)
        {
            return RunsApi.Invalid(errors);
        }
        using var permit = services.Gate.TryEnter();
        if (permit is null)
        {
            return services.Gate.Busy(services.Context, what);
        }
        var inputs = new DiagnosticInputs(run.Spec, run.Layers, run.Summary, run.Dataset.ClassNames);
        // On a training thread with the threads the run would get: its timings (and ETA) are those of the run.
        var result = await TrainingThread.Run(options.TorchThreadsFor(run.Spec),
            () => compute(inputs, LoadedDataset.Read(run.Dataset, services.Artifacts.TensorFilePath(run.Dataset)), options.DiagnosticsTimeLimit));
        return TypedResults.Ok(result);
    }

    private static string Show(double value) => value.ToString(CultureInfo.InvariantCulture);
}
