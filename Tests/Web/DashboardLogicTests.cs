using System.Text.Json;
using Experiments.Domain.Models;
using Experiments.Domain.Optimizers;
using Experiments.Domain.Runs;
using Experiments.Domain.Validation;
using Experiments.Web;
using Experiments.Web.Forms;
using Experiments.Web.Runs;
using Experiments.Web.Services;

namespace Experiments.Tests.Web;

/// <summary>The dashboard's logic that is not drawing: merging live and read epochs, comparing specs, forms, addresses.</summary>
public sealed class DashboardLogicTests
{
    [Fact]
    public void Series_merge_pushed_and_read_epochs_once_each_and_notice_gaps()
    {
        var series = new RunSeries();
        Assert.True(series.Add(Samples.Epoch(1)));
        Assert.False(series.Add(Samples.Epoch(3)));
        var version = series.Version;

        series.Merge([Samples.Epoch(1), Samples.Epoch(2), Samples.Epoch(3)]);

        Assert.Equal([1, 2, 3], series.Epochs.Select(metric => metric.Epoch));
        Assert.Equal(version + 1, series.Version);
        series.Merge([Samples.Epoch(2)]);
        Assert.Equal(version + 1, series.Version);
        var line = series.Line("test", metric => metric.TestAccuracy, "#000");
        Assert.Equal([1.0, 2.0, 3.0], line.X);
    }

    [Fact]
    public void A_pushed_epoch_extends_the_range_of_its_worker_or_starts_one_and_anything_else_waits_for_a_read()
    {
        IReadOnlyList<WorkerEpochs> ranges = [new("worker-b:1a2b3c4d", 1, 3)];

        Assert.Equal([new WorkerEpochs("worker-b:1a2b3c4d", 1, 4)], TrainedBy.After(ranges, "worker-b:1a2b3c4d", 4));
        Assert.Equal([ranges[0], new WorkerEpochs("worker-a:5e6f7a8b", 4, 4)], TrainedBy.After(ranges, "worker-a:5e6f7a8b", 4));
        Assert.Equal([new WorkerEpochs("worker-a:5e6f7a8b", 1, 1)], TrainedBy.After([], "worker-a:5e6f7a8b", 1));
        // Trained again after a resume, after a gap, or by a worker the page does not know.
        Assert.Same(ranges, TrainedBy.After(ranges, "worker-a:5e6f7a8b", 2));
        Assert.Same(ranges, TrainedBy.After(ranges, "worker-b:1a2b3c4d", 6));
        Assert.Same(ranges, TrainedBy.After(ranges, null, 4));
        Assert.Equal("worker-b:1a2b3c4d (epochs 1–3), an unrecorded worker (epoch 4)", TrainedBy.Describe([.. ranges, new WorkerEpochs(null, 4, 4)]));
    }

    [Fact]
    public void Times_ago_are_written_in_their_largest_whole_unit()
    {
        var now = new DateTimeOffset(2025, 3, 1, 12, 0, 0, TimeSpan.Zero);

        Assert.Equal("just now", Format.Ago(now + TimeSpan.FromSeconds(2), now));
        Assert.Equal("just now", Format.Ago(now, now));
        Assert.Equal("59 s ago", Format.Ago(now - TimeSpan.FromSeconds(59.9), now));
        Assert.Equal("1 min ago", Format.Ago(now - TimeSpan.FromSeconds(60), now));
        Assert.Equal("23 h ago", Format.Ago(now - TimeSpan.FromHours(23.5), now));
        Assert.Equal("2 d ago", Format.Ago(now - TimeSpan.FromDays(2), now));
    }

    [Fact]
    public void Spec_table_lines_up_settings_and_flags_only_those_that_differ()
    {
        var first = Samples.Run(Guid.NewGuid(), RunStatus.Succeeded, Samples.Epoch(1)) with
        {
            Spec = new RunSpec { Epochs = 5, BatchSize = 16, Optimizer = new OptimizerSpec("adam", Parameters(("lr", 0.01))) },
        };
        var second = first with { Spec = first.Spec with { BatchSize = 32, Optimizer = new OptimizerSpec("adam", Parameters(("lr", 0.01))) } };

        var rows = SpecTable.Build([first, second]).ToDictionary(row => row.Setting);

        Assert.True(rows["batchSize"].Differs);
        Assert.Equal(["16", "32"], rows["batchSize"].Values);
        Assert.False(rows["epochs"].Differs);
        Assert.False(rows["optimizer.lr"].Differs);
        Assert.Equal("adam", rows["optimizer"].Values[0]);
        Assert.Equal("iris-mlp v1", rows["model"].Values[0]);
        Assert.DoesNotContain("datasetId", rows.Keys);
    }

    [Fact]
    public void A_run_form_starts_from_pytorch_defaults_and_reports_problems_by_field()
    {
        var form = new RunForm { DatasetId = Guid.NewGuid(), ModelId = Guid.NewGuid() };
        Assert.Equal("0.001", form.Optimizer["lr"]);
        Assert.Equal("0.9, 0.999", form.Optimizer["betas"]);
        Assert.Empty(form.Check().ToDictionary());

        form.Optimizer["lr"] = "-1";
        form.BatchSize = "many";
        var errors = form.Check().ToDictionary();

        Assert.Contains("batchSize", errors.Keys);
        form.BatchSize = "16";
        Assert.Contains("greater than 0", Assert.Single(form.Check().ToDictionary()["optimizer.lr"]), StringComparison.Ordinal);
    }

    [Fact]
    public void A_resolved_spec_fills_the_form_and_comes_back_the_same()
    {
        var errors = new ValidationErrors();
        var sent = new RunSpec
        {
            DatasetId = Guid.NewGuid(),
            ModelId = Guid.NewGuid(),
            Optimizer = new OptimizerSpec("sgd", Parameters(("lr", 0.05), ("momentum", 0.9))),
            Loss = new Experiments.Domain.Losses.LossSpec("crossEntropy"),
            Scheduler = new Experiments.Domain.Schedulers.SchedulerSpec("stepLR", Parameters(("stepSize", 4), ("warmupEpochs", 1))),
            Epochs = 12,
            Seed = 123,
            TargetAccuracy = 0.95,
        };
        var resolved = RunSpecValidator.Resolve(sent, 0, errors)!;

        var again = RunSpecValidator.Resolve(RunForm.From(resolved).Build(errors), 0, errors)!;

        Assert.True(errors.IsEmpty, errors.ToString());
        Assert.Equal(JsonSerializer.Serialize(resolved with { Scheduler = null }), JsonSerializer.Serialize(again with { Scheduler = null }));
        Assert.Equal("stepLR", again.Scheduler!.Type);
        Assert.Equal(
            resolved.Scheduler!.Parameters.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => (p.Key, p.Value.GetRawText())),
            again.Scheduler.Parameters.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => (p.Key, p.Value.GetRawText())));
    }

    [Fact]
    public void Without_a_scheduler_the_form_sends_none_and_with_one_the_validator_checks_it()
    {
        var form = new RunForm { DatasetId = Guid.NewGuid(), ModelId = Guid.NewGuid() };
        var errors = new ValidationErrors();
        Assert.Null(form.Build(errors).Scheduler);

        form.UseScheduler = true;
        form.Scheduler.Select("stepLR");

        Assert.Contains("scheduler.stepSize", form.Check().ToDictionary().Keys);
    }

    [Fact]
    public void Layer_text_errors_say_where_and_field_paths_point_at_their_layer()
    {
        var (layers, error) = LayerJson.Parse("[\n  {\"type\": \"linear\", \"outFeatures\": 3},\n  {\"type\": \"relu\"\n]");
        Assert.Null(layers);
        Assert.StartsWith("Line 4", error, StringComparison.Ordinal);

        var (parsed, none) = LayerJson.Parse(LayerJson.Write([LayerJson.Template(LayerCatalog.Instance["dropout"])]));
        Assert.Null(none);
        Assert.Equal(0.5, Assert.Single(parsed!)!.Double("p"));

        Assert.Equal(3, LayerJson.LayerIndex("layers[3].outFeatures"));
        Assert.Equal(12, LayerJson.LayerIndex("layers[12]"));
        Assert.Null(LayerJson.LayerIndex("inputShape"));
    }

    [Theory]
    [InlineData("http://localhost:5000", "http://localhost:5000/")]
    [InlineData("http://+:8080", "http://127.0.0.1:8080/")]
    [InlineData("http://0.0.0.0:80", "http://127.0.0.1:80/")]
    [InlineData("http://[::]:5000", "http://[::1]:5000/")]
    public void The_dashboard_calls_its_own_api_on_a_loopback_address(string listening, string expected) =>
        Assert.Equal(new Uri(expected), SelfAddress.Resolve(["https://localhost:5001", listening]));

    [Fact]
    public void A_problem_answer_keeps_its_title_and_field_messages()
    {
        var problem = ExperimentsClient.ReadProblem(400, """{"title":"The run spec is not valid.","status":400,"errors":{"optimizer.lr":["must be greater than 0; got -1."]}}""");

        Assert.Equal("The run spec is not valid.", problem.Title);
        Assert.Equal(["must be greater than 0; got -1."], problem.For("optimizer"));
        Assert.Equal("Bad gateway", ExperimentsClient.ReadProblem(502, "Bad gateway").Detail);
    }

    private static Dictionary<string, JsonElement> Parameters(params (string Name, object Value)[] values) =>
        values.ToDictionary(value => value.Name, value => JsonSerializer.SerializeToElement(value.Value));
}
