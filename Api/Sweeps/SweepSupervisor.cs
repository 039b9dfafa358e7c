using Experiments.Api.Hosting;
using Microsoft.Extensions.Options;

namespace Experiments.Api.Sweeps;

/// <summary>
/// Advances every running sweep at start-up and then every <see cref="ExperimentsOptions.SweepControlInterval"/>, on every
/// node: after a restart, or a worker that died with a trial, the sweep goes on from what the database holds.
/// </summary>
public sealed class SweepSupervisor(SweepController controller, IOptions<ExperimentsOptions> options, TimeProvider time, ILogger<SweepSupervisor> logger) : BackgroundService
{
    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Periodically.RunAsync(controller.AdvanceAllAsync, options.Value.SweepControlInterval, "Advancing the running sweeps", time, logger, stoppingToken);
}
