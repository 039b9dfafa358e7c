using Bunit;
using Experiments.Domain.Runs;
using Experiments.Web.Components.Pages;
using Experiments.Web.Live;

namespace Experiments.Tests.Web;

public sealed class RunDetailPageTests : DashboardContext
{
    [Fact]
    public async Task Pushed_epochs_extend_the_run_and_a_pushed_log_line_is_tailed()
    {
        var id = Guid.NewGuid();
        Runs.Runs[id] = Samples.Run(id, RunStatus.Running, Samples.Epoch(1));
        var page = Render<RunDetail>(parameters => parameters.Add(p => p.Id, id));
        Assert.Equal("1 / 5", page.Find("#epochs").TextContent.Trim());
        // Trained before workers were recorded, or not at all: no worker is named.
        Assert.Empty(page.FindAll("#trained-by"));

        await page.InvokeAsync(() => Events.EpochAsync(id, Samples.Epoch(2, testAccuracy: 0.75)));
        await page.InvokeAsync(() => Events.PushAsync(id, handlers => () => handlers.LogLine!(new LogLineWritten(id, new RunLogLine(41, DateTimeOffset.UtcNow, "info", "epoch 2/5 done")))));

        Assert.Equal("2 / 5", page.Find("#epochs").TextContent.Trim());
        Assert.Equal("75.0 %", page.Find("#test-accuracy").TextContent.Trim());
        // A log line right after a render is drawn with the next throttled render.
        Time.Advance(RenderThrottle.DefaultInterval);
        page.WaitForAssertion(() => Assert.Contains("epoch 2/5 done", page.Find("#log").TextContent, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Batch_progress_renders_at_most_once_an_interval_and_ends_on_the_latest_batch_while_epochs_render_at_once()
    {
        var id = Guid.NewGuid();
        Runs.Runs[id] = Samples.Run(id, RunStatus.Running, Samples.Epoch(1));
        var page = Render<RunDetail>(parameters => parameters.Add(p => p.Id, id));
        Time.Advance(TimeSpan.FromSeconds(1));

        await page.InvokeAsync(() => Events.BatchAsync(id, epoch: 2, batch: 1));
        var afterFirst = page.RenderCount;
        Assert.StartsWith("epoch 2: batch 1/30", page.Find("#batch").TextContent.Trim(), StringComparison.Ordinal);
        for (var batch = 2; batch <= 30; batch++)
        {
            await page.InvokeAsync(() => Events.BatchAsync(id, epoch: 2, batch: batch));
        }

        Assert.Equal(afterFirst, page.RenderCount);
        Time.Advance(RenderThrottle.DefaultInterval);
        page.WaitForAssertion(() => Assert.StartsWith("epoch 2: batch 30/30", page.Find("#batch").TextContent.Trim(), StringComparison.Ordinal));
        Assert.Equal(afterFirst + 1, page.RenderCount);

        // Within the same interval, the finished epoch is drawn at once.
        await page.InvokeAsync(() => Events.EpochAsync(id, Samples.Epoch(2)));

        Assert.Equal("2 / 5", page.Find("#epochs").TextContent.Trim());
        Assert.Equal(afterFirst + 2, page.RenderCount);
    }

    [Fact]
    public async Task After_a_reconnection_it_catches_up_on_the_epochs_and_log_it_missed()
    {
        var id = Guid.NewGuid();
        Runs.Runs[id] = Samples.Run(id, RunStatus.Running, Samples.Epoch(1));
        var page = Render<RunDetail>(parameters => parameters.Add(p => p.Id, id));

        // While the connection was down, epochs 2 and 3 finished and were logged; nothing was pushed.
        Runs.Runs[id] = Samples.Run(id, RunStatus.Running, Samples.Epoch(1), Samples.Epoch(2), Samples.Epoch(3, testAccuracy: 0.8));
        Runs.Logs.Add(new RunLogLine(7, DateTimeOffset.UtcNow, "info", "epoch 3/5: missed while disconnected"));
        await page.InvokeAsync(Events.ReconnectAsync);

        Assert.Equal("3 / 5", page.Find("#epochs").TextContent.Trim());
        Assert.Contains("missed while disconnected", page.Find("#log").TextContent, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_epoch_that_arrives_after_a_gap_reads_the_missing_ones()
    {
        var id = Guid.NewGuid();
        Runs.Runs[id] = Samples.Run(id, RunStatus.Running, Samples.Epoch(1));
        var page = Render<RunDetail>(parameters => parameters.Add(p => p.Id, id));

        Runs.Runs[id] = Samples.Run(id, RunStatus.Running, Samples.Epoch(1), Samples.Epoch(2), Samples.Epoch(3), Samples.Epoch(4));
        await page.InvokeAsync(() => Events.EpochAsync(id, Samples.Epoch(4)));

        Assert.Equal("4 / 5", page.Find("#epochs").TextContent.Trim());
    }

    [Fact]
    public void A_trial_links_to_its_sweep_with_its_values_and_a_pruned_one_says_why_it_was_stopped()
    {
        var id = Guid.NewGuid();
        var sweepId = Guid.NewGuid();
        var pruning = SweepSamples.Pruning(epoch: 2, value: 0.5, threshold: 0.8333);
        Runs.Runs[id] = Samples.Run(id, RunStatus.Succeeded, Samples.Epoch(1), Samples.Epoch(2)) with
        {
            StopReason = StopReason.Pruned,
            SweepId = sweepId,
            TrialNumber = 3,
            TrialParameters = new Dictionary<string, System.Text.Json.JsonElement> { ["optimizer.lr"] = SweepSamples.Json(0.001), ["batchSize"] = SweepSamples.Json(16) },
            Pruning = pruning,
        };

        var page = Render<RunDetail>(parameters => parameters.Add(p => p.Id, id));

        var trial = page.Find("#trial");
        Assert.StartsWith($"Trial 3 of sweep {sweepId.ToString("N")[..8]}", trial.TextContent.Trim(), StringComparison.Ordinal);
        Assert.Equal($"/sweeps/{sweepId}", trial.QuerySelector("a")!.GetAttribute("href"));
        Assert.Equal(["· optimizer.lr = 0.001", "· batchSize = 16"], page.FindAll("#trial .trial-parameter").Select(span => span.TextContent.Trim()));
        Assert.Equal(pruning.Reason, page.Find("#pruning").TextContent.Trim());
        Assert.Equal("pruned", page.Find(".page-head .badge").GetAttribute("data-status"));
        Assert.Contains("stopped early by its sweep at epoch 2", page.Markup, StringComparison.Ordinal);
    }

    [Fact]
    public void A_run_of_its_own_names_no_sweep()
    {
        var id = Guid.NewGuid();
        Runs.Runs[id] = Samples.Run(id, RunStatus.Succeeded, Samples.Epoch(1));

        var page = Render<RunDetail>(parameters => parameters.Add(p => p.Id, id));

        Assert.Empty(page.FindAll("#trial"));
        Assert.Equal("succeeded", page.Find(".page-head .badge").GetAttribute("data-status"));
    }

    [Fact]
    public void A_finished_run_offers_its_weights_and_no_cancel_button()
    {
        var id = Guid.NewGuid();
        Runs.Runs[id] = Samples.Run(id, RunStatus.Succeeded, Samples.Epoch(1));

        var page = Render<RunDetail>(parameters => parameters.Add(p => p.Id, id));

        Assert.Empty(page.FindAll("#cancel"));
        Assert.Equal($"/runs/new?from={id}", page.Find("#rerun").GetAttribute("href"));
        Assert.Equal(
            ["pytorch", "safetensors", "torchsharp", "onnx", "card"],
            page.FindAll(".downloads a").Select(link => link.GetAttribute("href")!.Replace($"/api/runs/{id}/weights?format=", "", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task A_cancel_answered_after_the_run_stopped_does_not_take_the_page_back_to_a_running_run()
    {
        var id = Guid.NewGuid();
        Runs.Runs[id] = Samples.Run(id, RunStatus.Running, Samples.Epoch(1));
        var answer = new TaskCompletionSource<HttpResponseMessage>();
        Api.Answers[$"/api/runs/{id}/cancel"] = answer.Task;
        var page = Render<RunDetail>(parameters => parameters.Add(p => p.Id, id));

        var click = page.InvokeAsync(() => page.Find("#cancel").ClickAsync(new Microsoft.AspNetCore.Components.Web.MouseEventArgs()));
        // The worker stops at once and the page hears it before the cancel request is answered (as read before the stop).
        Runs.Runs[id] = Samples.Run(id, RunStatus.Cancelled, Samples.Epoch(1));
        await page.InvokeAsync(() => Events.StatusAsync(id, RunStatus.Cancelled));
        answer.SetResult(new HttpResponseMessage(System.Net.HttpStatusCode.Accepted)
        {
            Content = System.Net.Http.Json.JsonContent.Create(Samples.Run(id, RunStatus.Running, Samples.Epoch(1)) with { CancelRequested = true },
                options: Experiments.Domain.JsonConventions.Web),
        });
        await click;

        page.WaitForAssertion(() => Assert.Equal("cancelled", page.Find(".page-head .badge").GetAttribute("data-status")));
        Assert.Empty(page.FindAll("#cancel"));
    }

    [Fact]
    public async Task The_workers_that_trained_it_are_named_with_their_epochs_and_a_pushed_epoch_extends_the_last_one()
    {
        var id = Guid.NewGuid();
        Runs.Runs[id] = Samples.Run(id, RunStatus.Running, Samples.Epoch(1), Samples.Epoch(2), Samples.Epoch(3), Samples.Epoch(4)) with
        {
            Environment = new RunEnvironment("cpu", "0.105.0", "2.5.1", 4, "gpu-box-1", "worker-a:5e6f7a8b"),
            TrainedBy = [new WorkerEpochs("worker-b:1a2b3c4d", 1, 3), new WorkerEpochs("worker-a:5e6f7a8b", 4, 4)],
        };
        var page = Render<RunDetail>(parameters => parameters.Add(p => p.Id, id));
        Assert.Equal("Trained by worker-b:1a2b3c4d (epochs 1–3), worker-a:5e6f7a8b (epoch 4)", page.Find("#trained-by").TextContent.Trim());

        await page.InvokeAsync(() => Events.EpochAsync(id, Samples.Epoch(5)));

        Assert.Equal("Trained by worker-b:1a2b3c4d (epochs 1–3), worker-a:5e6f7a8b (epochs 4–5)", page.Find("#trained-by").TextContent.Trim());
    }

    [Fact]
    public async Task Without_live_events_an_unfinished_run_is_read_again_every_five_seconds_until_it_finishes()
    {
        var id = Guid.NewGuid();
        Runs.Runs[id] = Samples.Run(id, RunStatus.Running, Samples.Epoch(1));
        var page = Render<RunDetail>(parameters => parameters.Add(p => p.Id, id));
        var reads = Runs.Gets;

        // Trained by another process whose events no longer reach this one (its backplane is lost): nothing is pushed.
        Runs.Runs[id] = Samples.Run(id, RunStatus.Running, Samples.Epoch(1), Samples.Epoch(2), Samples.Epoch(3));
        await AdvanceAsync(QuietRefresh.DefaultInterval - TimeSpan.FromMilliseconds(1));
        Assert.Equal(reads, Runs.Gets);
        await AdvanceAsync(TimeSpan.FromMilliseconds(1));
        Assert.Equal(reads + 1, Runs.Gets);
        Assert.Equal("3 / 5", page.Find("#epochs").TextContent.Trim());

        Runs.Runs[id] = Samples.Run(id, RunStatus.Succeeded, Samples.Epoch(1), Samples.Epoch(2), Samples.Epoch(3), Samples.Epoch(4), Samples.Epoch(5));
        await AdvanceAsync(QuietRefresh.DefaultInterval);
        Assert.Equal("succeeded", page.Find(".page-head .badge").GetAttribute("data-status"));
        Assert.Equal("5 / 5", page.Find("#epochs").TextContent.Trim());

        await AdvanceAsync(QuietRefresh.DefaultInterval * 3);
        Assert.Equal(reads + 2, Runs.Gets);
    }

    [Fact]
    public async Task While_live_events_arrive_the_run_is_not_read_again_and_once_they_stop_it_is()
    {
        var id = Guid.NewGuid();
        Runs.Runs[id] = Samples.Run(id, RunStatus.Running, Samples.Epoch(1));
        var page = Render<RunDetail>(parameters => parameters.Add(p => p.Id, id));
        var reads = Runs.Gets;

        for (var batch = 1; batch <= 4; batch++)
        {
            await AdvanceAsync(TimeSpan.FromSeconds(3));
            await page.InvokeAsync(() => Events.BatchAsync(id, epoch: 2, batch: batch));
        }
        Assert.Equal(reads, Runs.Gets);

        await AdvanceAsync(QuietRefresh.DefaultInterval);
        Assert.Equal(reads + 1, Runs.Gets);
    }
}
