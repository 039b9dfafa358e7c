using Experiments.Domain.Runs;

namespace Experiments.Tests.Domain;

public sealed class RunStatusTests
{
    [Theory]
    [InlineData(RunStatus.Queued, false)]
    [InlineData(RunStatus.Running, false)]
    [InlineData(RunStatus.Succeeded, true)]
    [InlineData(RunStatus.Failed, true)]
    [InlineData(RunStatus.Cancelled, true)]
    public void Only_succeeded_failed_and_cancelled_runs_are_finished(RunStatus status, bool finished)
    {
        Assert.Equal(finished, status.IsFinished());
    }
}
