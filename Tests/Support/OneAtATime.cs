namespace Experiments.Tests.Support;

/// <summary>
/// The tests that run one at a time, after the parallel ones: TorchSharp's RNG and thread pool are
/// process-wide, each API fixture runs a Hangfire server and trains, and the browser and multi-process tests
/// start services of their own. Pure unit tests (Domain, dataset readers, dashboard logic) stay out of it and
/// run in parallel.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class OneAtATime
{
    public const string Name = "One at a time";
}
