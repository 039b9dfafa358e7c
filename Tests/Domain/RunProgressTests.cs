using Experiments.Domain.Runs;

namespace Experiments.Tests.Domain;

public sealed class RunProgressTests
{
    [Fact]
    public void Progress_is_the_completed_epochs_plus_the_done_part_of_the_next_one_over_all_epochs()
    {
        var batch = new BatchProgress(Guid.NewGuid(), Epoch: 3, Batch: 5, BatchesPerEpoch: 20, Loss: null);

        Assert.Equal((2 + 0.25) / 4, RunProgress.Fraction(2, 4, batch));
        Assert.Equal(0.5, RunProgress.Fraction(2, 4, null));
    }

    [Theory]
    [InlineData(2, 20)] // an epoch already counted
    [InlineData(4, 20)] // an epoch after the next one
    [InlineData(3, 0)] // no batches to divide by
    public void A_batch_report_of_another_epoch_or_without_batches_adds_nothing(int epoch, int batchesPerEpoch)
    {
        var batch = new BatchProgress(Guid.NewGuid(), epoch, 5, batchesPerEpoch, null);

        Assert.Equal(0.5, RunProgress.Fraction(2, 4, batch));
    }

    [Fact]
    public void A_run_of_no_epochs_is_at_zero()
    {
        Assert.Equal(0, RunProgress.Fraction(0, 0, new BatchProgress(Guid.NewGuid(), 1, 5, 10, null)));
    }
}
