using System.Net;
using System.Net.Http.Json;
using System.Security.Claims;
using System.Text.Json;
using Bunit;
using Experiments.Domain;
using Experiments.Domain.Access;
using Experiments.Domain.Runs;
using Experiments.Domain.Sweeps;
using Experiments.Web.Components.Pages;
using Experiments.Web.Live;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.Extensions.DependencyInjection;

namespace Experiments.Tests.Web;

/// <summary>The sweep page: its trials with their values, pruned trials with the reason, importance, best curves, and the editors' actions.</summary>
public sealed class SweepDetailPageTests : DashboardContext
{
    private static readonly TrialPruning Pruned = SweepSamples.Pruning(epoch: 2, value: 0.5, threshold: 0.8333);

    [Fact]
    public void The_trials_table_has_a_column_per_searched_field_shows_the_pruned_trials_reason_and_highlights_the_best()
    {
        var sweep = Add(SweepStatus.Running,
            SweepSamples.Trial(1, RunStatus.Succeeded, 0.9, lr: 0.01, width: 16),
            SweepSamples.Trial(2, RunStatus.Succeeded, 0.5, lr: 0.001, width: 4, epochsCompleted: 2, pruning: Pruned),
            SweepSamples.Trial(3, RunStatus.Succeeded, 0.95, lr: 0.1, width: 32),
            SweepSamples.Trial(4, RunStatus.Running, null, lr: 0.3, width: 8, epochsCompleted: 3));

        var page = Render<SweepDetail>(parameters => parameters.Add(p => p.Id, sweep.Id));

        Assert.Equal(["optimizer.lr", "layers[0].outFeatures"], page.FindAll("#trials thead th[data-parameter]").Select(th => th.GetAttribute("data-parameter")));
        var first = page.Find("#trials tr[data-trial='1']");
        Assert.Equal(["0.01", "16"], first.QuerySelectorAll("td[data-parameter]").Select(td => td.TextContent.Trim()));
        Assert.Equal($"/runs/{sweep.Trials[0].RunId}", first.QuerySelector("a")!.GetAttribute("href"));
        Assert.Equal("90.0 %", first.QuerySelector("td.value")!.TextContent.Trim());

        var pruned = page.Find("#trials tr[data-trial='2']");
        var badge = pruned.QuerySelector(".badge")!;
        Assert.Equal("pruned", badge.GetAttribute("data-status"));
        Assert.Equal(Pruned.Reason, badge.GetAttribute("title"));
        Assert.Equal("asha at epoch 2: 0.5 against a threshold of 0.8333 (4 trials)", pruned.QuerySelector("small.pruning")!.TextContent.Trim());
        Assert.Contains("2/8", pruned.TextContent, StringComparison.Ordinal);

        Assert.Equal(["3"], page.FindAll("#trials tr.best").Select(row => row.GetAttribute("data-trial")));
        Assert.Equal("–", page.Find("#trials tr[data-trial='4'] td.value").TextContent.Trim());
        Assert.Equal("running", page.Find("#trials tr[data-trial='4'] .badge").GetAttribute("data-status"));

        Assert.Equal("4 / 8", page.Find("#trials-started").TextContent.Trim());
        Assert.Equal("21", page.Find("#epochs-used").TextContent.Trim());
        Assert.Equal("6 epochs", page.Find("#epochs-saved").TextContent.Trim());
        Assert.Equal("95.0 %", page.Find("#best-value").TextContent.Trim());
        Assert.StartsWith("iris · grid search · validation accuracy, maximized · early termination: asha, η 2, from epoch 1 · created",
            System.Text.RegularExpressions.Regex.Replace(page.Find("#sweep-summary").TextContent.Trim(), @"\s+", " "), StringComparison.Ordinal);
        Assert.NotNull(page.Find("#sweep-parcoords"));
    }

    [Fact]
    public void Each_fields_importance_is_a_bar_as_wide_as_its_share_with_the_trials_it_comes_from()
    {
        var sweep = Add(SweepStatus.Succeeded,
            SweepSamples.Trial(1, RunStatus.Succeeded, 0.9, lr: 0.01, width: 16),
            SweepSamples.Trial(2, RunStatus.Succeeded, 0.5, lr: 0.001, width: 16),
            SweepSamples.Trial(3, RunStatus.Succeeded, 0.95, lr: 0.1, width: 16));

        var page = Render<SweepDetail>(parameters => parameters.Add(p => p.Id, sweep.Id));

        var rows = page.FindAll("#importance .bar-row");
        Assert.Equal(sweep.Importance.Select(importance => importance.Parameter), rows.Select(row => row.GetAttribute("data-parameter")));
        var lr = page.Find("#importance .bar-row[data-parameter='optimizer.lr']");
        // Three values of lr, one trial each: they explain all the spread; the one width explains none.
        Assert.Equal("width: 100%", lr.QuerySelector(".bar-fill")!.GetAttribute("style"));
        Assert.Equal("100.0 %", lr.QuerySelector(".bar-value")!.TextContent.Trim());
        Assert.Equal("3 trials", lr.QuerySelector(".bar-trials")!.TextContent.Trim());
        Assert.Equal("width: 0%", page.Find("#importance .bar-row[data-parameter='layers[0].outFeatures'] .bar-fill").GetAttribute("style"));
    }

    [Fact]
    public void The_best_trials_run_is_drawn_with_its_loss_and_accuracy_per_epoch()
    {
        var sweep = Add(SweepStatus.Succeeded,
            SweepSamples.Trial(1, RunStatus.Succeeded, 0.9, lr: 0.01, width: 16),
            SweepSamples.Trial(2, RunStatus.Succeeded, 0.95, lr: 0.1, width: 16));
        var best = sweep.Trials[1];
        Runs.Runs[best.RunId] = Samples.Run(best.RunId, RunStatus.Succeeded, Samples.Epoch(1), Samples.Epoch(2, 0.9), Samples.Epoch(3, 0.95));

        var page = Render<SweepDetail>(parameters => parameters.Add(p => p.Id, sweep.Id));

        Assert.Contains("Best trial #2", page.Find("#best-trial h2").TextContent, StringComparison.Ordinal);
        Assert.NotNull(page.Find("#best-trial #best-loss"));
        Assert.NotNull(page.Find("#best-trial #best-accuracy"));
        Assert.Equal($"/runs/{best.RunId}", page.Find("#best-trial h2 a").GetAttribute("href"));
    }

    [Fact]
    public void Viewers_get_neither_cancel_nor_re_run_and_editors_cancel_only_their_own_running_sweep()
    {
        var running = Add(SweepStatus.Running, [SweepSamples.Trial(1, RunStatus.Succeeded, 0.9, lr: 0.01, width: 16)], createdBy: "alice");
        var finished = Add(SweepStatus.Succeeded, [SweepSamples.Trial(1, RunStatus.Succeeded, 0.9, lr: 0.01, width: 16)], createdBy: "alice");

        var asViewer = Render<SweepDetail>(parameters => parameters.Add(p => p.Id, running.Id).AddCascadingValue(SignedIn("vera", Role.Viewer)));
        Assert.Empty(asViewer.FindAll("#cancel"));
        Assert.Empty(asViewer.FindAll("#rerun-best"));

        var asAnotherEditor = Render<SweepDetail>(parameters => parameters.Add(p => p.Id, running.Id).AddCascadingValue(SignedIn("bob", Role.Editor)));
        Assert.Empty(asAnotherEditor.FindAll("#cancel"));
        Assert.NotNull(asAnotherEditor.Find("#rerun-best"));

        var asOwner = Render<SweepDetail>(parameters => parameters.Add(p => p.Id, running.Id).AddCascadingValue(SignedIn("alice", Role.Editor)));
        Assert.Equal("Cancel sweep", asOwner.Find("#cancel").TextContent.Trim());

        var ownFinished = Render<SweepDetail>(parameters => parameters.Add(p => p.Id, finished.Id).AddCascadingValue(SignedIn("alice", Role.Editor)));
        Assert.Empty(ownFinished.FindAll("#cancel"));
        Assert.NotNull(ownFinished.Find("#rerun-best"));
    }

    [Fact]
    public async Task Cancel_posts_to_the_sweeps_cancel_and_shows_it_cancelling()
    {
        var sweep = Add(SweepStatus.Running, [SweepSamples.Trial(1, RunStatus.Running, null, lr: 0.01, width: 16, epochsCompleted: 1)]);
        Api.Answers[$"/api/sweeps/{sweep.Id}/cancel"] = Task.FromResult(Json(HttpStatusCode.Accepted, sweep with { CancelRequested = true }));
        var page = Render<SweepDetail>(parameters => parameters.Add(p => p.Id, sweep.Id));

        await page.Find("#cancel").ClickAsync(new());

        Assert.Contains(Api.Requests, request => request.Path == $"/api/sweeps/{sweep.Id}/cancel");
        page.WaitForAssertion(() => Assert.Equal("cancelling", page.Find(".page-head .badge").TextContent.Trim()));
        Assert.True(page.Find("#cancel").HasAttribute("disabled"));
    }

    [Fact]
    public async Task Re_run_best_posts_the_best_trials_resolved_spec_and_opens_the_new_run()
    {
        var sweep = Add(SweepStatus.Succeeded,
            SweepSamples.Trial(1, RunStatus.Succeeded, 0.9, lr: 0.01, width: 16),
            SweepSamples.Trial(2, RunStatus.Succeeded, 0.95, lr: 0.1, width: 32));
        var best = sweep.Trials[1];
        var trialRun = Samples.Run(best.RunId, RunStatus.Succeeded, Samples.Epoch(1));
        trialRun = trialRun with { Spec = trialRun.Spec with { Optimizer = new Experiments.Domain.Optimizers.OptimizerSpec("sgd", new Dictionary<string, JsonElement> { ["lr"] = SweepSamples.Json(0.1) }) } };
        Runs.Runs[best.RunId] = trialRun;
        var created = Samples.Run(Guid.NewGuid(), RunStatus.Queued);
        Api.Answers["/api/runs"] = Task.FromResult(Json(HttpStatusCode.Created, created));
        var page = Render<SweepDetail>(parameters => parameters.Add(p => p.Id, sweep.Id));

        await page.Find("#rerun-best").ClickAsync(new());

        var sent = JsonSerializer.Deserialize<RunSpec>(Api.Requests.Single(request => request.Path == "/api/runs").Body, JsonConventions.Web)!;
        Assert.Equal(JsonSerializer.Serialize(trialRun.Spec, JsonConventions.Web), JsonSerializer.Serialize(sent, JsonConventions.Web));
        Assert.Equal(0.1, sent.Optimizer!.Double("lr"));
        Assert.EndsWith($"/runs/{created.Id}", Services.GetRequiredService<NavigationManager>().Uri, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_refused_re_run_shows_the_apis_problem_and_stays()
    {
        var sweep = Add(SweepStatus.Succeeded, [SweepSamples.Trial(1, RunStatus.Succeeded, 0.9, lr: 0.01, width: 16)]);
        Runs.Runs[sweep.Trials[0].RunId] = Samples.Run(sweep.Trials[0].RunId, RunStatus.Succeeded, Samples.Epoch(1));
        Api.Answers["/api/runs"] = Task.FromResult(new HttpResponseMessage(HttpStatusCode.BadRequest)
        {
            Content = JsonContent.Create(new { title = "The run spec is not valid.", errors = new Dictionary<string, string[]> { ["modelId"] = ["no such model."] } }),
        });
        var page = Render<SweepDetail>(parameters => parameters.Add(p => p.Id, sweep.Id));

        await page.Find("#rerun-best").ClickAsync(new());

        page.WaitForAssertion(() => Assert.Contains("The run spec is not valid.", page.Find(".problem").TextContent, StringComparison.Ordinal));
        Assert.Contains("no such model.", page.Find(".problem").TextContent, StringComparison.Ordinal);
        Assert.DoesNotContain("/runs/", Services.GetRequiredService<NavigationManager>().Uri, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_trials_status_change_or_epoch_reads_the_sweep_again_once_and_other_runs_epochs_do_not()
    {
        var trial = SweepSamples.Trial(1, RunStatus.Running, null, lr: 0.01, width: 16, epochsCompleted: 1);
        var sweep = Add(SweepStatus.Running, trial);
        var page = Render<SweepDetail>(parameters => parameters.Add(p => p.Id, sweep.Id));
        Assert.Equal([null], Events.Subscribed);
        var reads = Sweeps.Gets;

        await page.InvokeAsync(() => Events.EpochAsync(Guid.NewGuid(), Samples.Epoch(1)));
        await AdvanceAsync(SweepDetail.ReloadDelay);
        Assert.Equal(reads, Sweeps.Gets);

        // Trial 1 trains on and trial 2 starts: the run the page has not seen announces itself with a status change.
        var started = SweepSamples.Trial(2, RunStatus.Queued, null, lr: 0.1, width: 16, epochsCompleted: 0);
        Sweeps.Sweeps[sweep.Id] = SweepSamples.Sweep(SweepStatus.Running, [trial with { EpochsCompleted = 2 }, started]) with { Id = sweep.Id };
        await page.InvokeAsync(() => Events.EpochAsync(trial.RunId, Samples.Epoch(2)));
        await page.InvokeAsync(() => Events.StatusAsync(started.RunId, RunStatus.Queued));
        await AdvanceAsync(SweepDetail.ReloadDelay);

        Assert.Equal(reads + 1, Sweeps.Gets);
        Assert.Equal(2, page.FindAll("#trials tbody tr").Count);
        Assert.Contains("2/8", page.Find("#trials tr[data-trial='1']").TextContent, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_running_sweep_is_read_again_when_quiet_and_a_finished_one_is_not()
    {
        var sweep = Add(SweepStatus.Running, [SweepSamples.Trial(1, RunStatus.Succeeded, 0.9, lr: 0.01, width: 16)]);
        var page = Render<SweepDetail>(parameters => parameters.Add(p => p.Id, sweep.Id));
        var reads = Sweeps.Gets;

        // Its last trial finished; the sweep ends after it, with no event of its own.
        Sweeps.Sweeps[sweep.Id] = sweep with { Status = SweepStatus.Succeeded, FinishedAt = DateTimeOffset.UtcNow };
        await AdvanceAsync(QuietRefresh.DefaultInterval);

        Assert.Equal(reads + 1, Sweeps.Gets);
        Assert.Equal("succeeded", page.Find(".page-head .badge").GetAttribute("data-status"));
        await AdvanceAsync(QuietRefresh.DefaultInterval * 3);
        Assert.Equal(reads + 1, Sweeps.Gets);
    }

    [Fact]
    public void An_unknown_sweep_says_so()
    {
        var page = Render<SweepDetail>(parameters => parameters.Add(p => p.Id, Guid.NewGuid()));

        Assert.Equal("Sweep not found", page.Find("h1").TextContent.Trim());
    }

    private SweepView Add(SweepStatus status, params TrialView[] trials) => Add(status, trials, createdBy: null);

    private SweepView Add(SweepStatus status, IReadOnlyList<TrialView> trials, string? createdBy)
    {
        var sweep = SweepSamples.Sweep(status, trials, createdBy);
        Sweeps.Sweeps[sweep.Id] = sweep;
        return sweep;
    }

    private static Task<AuthenticationState> SignedIn(string name, Role role) => Task.FromResult(new AuthenticationState(new ClaimsPrincipal(
        new ClaimsIdentity([new Claim(AccessClaims.Name, name), new Claim(AccessClaims.Role, role.ToText())], "key"))));

    private static HttpResponseMessage Json<T>(HttpStatusCode status, T value) => new(status) { Content = JsonContent.Create(value, options: JsonConventions.Web) };
}
