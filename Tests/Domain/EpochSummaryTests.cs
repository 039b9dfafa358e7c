using Experiments.Domain.Runs;

namespace Experiments.Tests.Domain;

public sealed class EpochSummaryTests
{
    private static EpochMetric Tested(int epoch, double? testAccuracy) =>
        new(epoch, 1.0, 0.5, testAccuracy is null ? null : 1.0, testAccuracy, 0.01, 1.0, 1.0, 100);

    private static EpochMetric Validated(int epoch, double validationAccuracy, double testAccuracy) =>
        Tested(epoch, testAccuracy) with { ValidationLoss = 1.0, ValidationAccuracy = validationAccuracy };

    [Fact]
    public void The_first_evaluated_epoch_is_the_last_and_the_best()
    {
        var summary = EpochSummary.None.Apply(Tested(1, 0.4));

        Assert.Equal(new EpochSummary(1, 0.4, 0.4, 1), summary);
    }

    [Fact]
    public void The_best_moves_only_to_a_strictly_more_accurate_epoch()
    {
        var summary = EpochSummary.None.Apply(Tested(1, 0.5)).Apply(Tested(2, 0.7)).Apply(Tested(3, 0.7)).Apply(Tested(4, 0.6));

        Assert.Equal(new EpochSummary(4, 0.6, 0.7, 2), summary);
    }

    [Fact]
    public void An_epoch_that_was_not_evaluated_counts_but_keeps_the_last_and_best_accuracy()
    {
        var summary = EpochSummary.None.Apply(Tested(1, 0.5)).Apply(Tested(2, null));

        Assert.Equal(new EpochSummary(2, 0.5, 0.5, 1), summary);
        Assert.Equal(new EpochSummary(1, null, null, null), EpochSummary.None.Apply(Tested(1, null)));
    }

    [Fact]
    public void A_late_epoch_never_moves_the_completed_count_back()
    {
        var summary = new EpochSummary(5, 0.6, 0.8, 4).Apply(Tested(3, 0.9));

        Assert.Equal(new EpochSummary(5, 0.9, 0.9, 3), summary);
    }

    [Fact]
    public void With_a_validation_split_the_best_epoch_is_chosen_on_validation_and_reports_its_test_accuracy()
    {
        // Epoch 2 is the most accurate on test, epoch 3 on validation: selecting on test would pick 2.
        var summary = EpochSummary.None.Apply(Validated(1, 0.60, 0.55)).Apply(Validated(2, 0.70, 0.80)).Apply(Validated(3, 0.75, 0.72)).Apply(Validated(4, 0.75, 0.9));

        Assert.Equal(new EpochSummary(4, 0.9, 0.72, 3, 0.75), summary);
    }
}
