using Experiments.Domain.Runs;

namespace Experiments.Tests.Domain;

public sealed class EpochSummaryTests
{
    [Fact]
    public void The_first_evaluated_epoch_is_the_last_and_the_best()
    {
        var summary = EpochSummary.None.Apply(1, 0.4);

        Assert.Equal(new EpochSummary(1, 0.4, 0.4, 1), summary);
    }

    [Fact]
    public void The_best_moves_only_to_a_strictly_more_accurate_epoch()
    {
        var summary = EpochSummary.None.Apply(1, 0.5).Apply(2, 0.7).Apply(3, 0.7).Apply(4, 0.6);

        Assert.Equal(new EpochSummary(4, 0.6, 0.7, 2), summary);
    }

    [Fact]
    public void An_epoch_that_was_not_evaluated_counts_but_keeps_the_last_and_best_accuracy()
    {
        var summary = EpochSummary.None.Apply(1, 0.5).Apply(2, null);

        Assert.Equal(new EpochSummary(2, 0.5, 0.5, 1), summary);
        Assert.Equal(new EpochSummary(1, null, null, null), EpochSummary.None.Apply(1, null));
    }

    [Fact]
    public void A_late_epoch_never_moves_the_completed_count_back()
    {
        var summary = new EpochSummary(5, 0.6, 0.8, 4).Apply(3, 0.9);

        Assert.Equal(new EpochSummary(5, 0.9, 0.9, 3), summary);
    }
}
