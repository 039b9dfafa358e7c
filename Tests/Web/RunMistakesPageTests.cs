using System.Net;
using System.Net.Http.Json;
using Bunit;
using Experiments.Domain;
using Experiments.Domain.Runs;
using Experiments.Web.Components.Pages;

namespace Experiments.Tests.Web;

/// <summary>The run page's confusion matrix opens the run's mistakes, read through GET /api/runs/{id}/mistakes.</summary>
public sealed class RunMistakesPageTests : DashboardContext
{
    private static readonly string[] Iris = ["setosa", "versicolor", "virginica"];

    [Fact]
    public void Clicking_a_confusion_matrix_cell_shows_that_cells_mistakes_with_their_indices_and_probabilities()
    {
        var id = FinishedRun([[10, 0, 0], [0, 7, 3], [0, 2, 8]]);
        Answer(id, new RunMistakes(id, "test", "test", "confidentWrong", 1, 2, 3, Iris, [4], false,
        [
            Sample(17, 1, 2, [0.01f, 0.19f, 0.80f], [6.3f, 2.8f, 5.1f, 1.5f]),
            Sample(4, 1, 2, [0.02f, 0.38f, 0.60f], [6.0f, 2.7f, 5.1f, 1.6f]),
            Sample(23, 1, 2, [0.05f, 0.44f, 0.51f], [5.9f, 3.2f, 4.8f, 1.8f]),
        ]));
        var page = Render<RunDetail>(parameters => parameters.Add(p => p.Id, id));
        Assert.Contains("Click a cell", page.Find("#mistakes").TextContent, StringComparison.Ordinal);
        // An empty cell has nothing to open.
        Assert.True(page.Find("#chart-confusion button[data-true='0'][data-predicted='1']").HasAttribute("disabled"));

        page.Find("#chart-confusion button[data-true='1'][data-predicted='2']").Click();

        page.WaitForAssertion(() => Assert.Equal(3, page.FindAll("#mistakes figure.mistake").Count));
        var asked = Assert.Single(Api.Addresses, address => address.AbsolutePath == $"/api/runs/{id}/mistakes");
        Assert.Equal("?split=test&kind=confidentWrong&count=24&true=1&predicted=2", asked.Query);
        Assert.Equal("true", page.Find("#chart-confusion button[data-true='1'][data-predicted='2']").GetAttribute("aria-pressed"));
        Assert.Contains("versicolor predicted as virginica", page.Find("#mistakes h2").TextContent, StringComparison.Ordinal);
        Assert.Equal("3 samples of the test split", page.Find("#mistakes-count").TextContent.Trim());
        var first = page.FindAll("#mistakes figure.mistake")[0];
        Assert.Equal("17", first.GetAttribute("data-index"));
        Assert.Equal("versicolor → virginica", first.QuerySelector(".classes")!.TextContent.Trim());
        Assert.Equal("virginica: 80.0 % · versicolor: 19.0 % · setosa: 1.0 %", first.QuerySelector(".probabilities")!.TextContent.Trim());
        Assert.Equal("6.3, 2.8, 5.1, 1.5", first.QuerySelector(".features")!.TextContent.Trim());
        Assert.Equal("#17", first.QuerySelector(".index")!.TextContent.Trim());
    }

    [Fact]
    public void The_most_confident_wrong_and_the_most_ambiguous_samples_are_a_click_away_and_images_are_shown_as_pictures()
    {
        var id = FinishedRun([[10, 0, 0], [0, 7, 3], [0, 2, 8]]);
        var png = "data:image/png;base64,iVBORw0KGgo=";
        Answer(id, new RunMistakes(id, "test", "test", "confidentWrong", null, null, 5, Iris, [1, 28, 28], true,
            [Sample(9, 2, 1, [0.0f, 0.9f, 0.1f], png: png), Sample(3, 1, 2, [0.1f, 0.1f, 0.8f], png: png)]));
        var page = Render<RunDetail>(parameters => parameters.Add(p => p.Id, id));

        page.Find("#mistakes-confident").Click();

        page.WaitForAssertion(() => Assert.Equal(2, page.FindAll("#mistakes figure.mistake img").Count));
        Assert.Equal(png, page.Find("#mistakes figure.mistake img").GetAttribute("src"));
        Assert.Equal("the first 2 of 5 samples of the test split", page.Find("#mistakes-count").TextContent.Trim());
        Assert.Equal("?split=test&kind=confidentWrong&count=24", Api.Addresses[^1].Query);
        // No cell is selected for a kind over the whole split.
        Assert.Empty(page.FindAll("#chart-confusion button[aria-pressed='true']"));

        Answer(id, new RunMistakes(id, "test", "test", "ambiguous", null, null, 30, Iris, [1, 28, 28], true, [Sample(12, 1, 1, [0.0f, 0.5f, 0.5f], png: png)]));
        page.Find("#mistakes-ambiguous").Click();

        page.WaitForAssertion(() => Assert.Equal("?split=test&kind=ambiguous&count=24", Api.Addresses[^1].Query));
        page.WaitForAssertion(() => Assert.Single(page.FindAll("#mistakes figure.mistake.right")));
        Assert.Equal("true", page.Find("#mistakes-ambiguous").GetAttribute("aria-pressed"));
    }

    [Fact]
    public void A_refused_request_shows_the_problem_the_api_answered()
    {
        var id = FinishedRun([[10, 0, 0], [0, 7, 3], [0, 2, 8]]);
        Api.Answers[$"/api/runs/{id}/mistakes"] = Task.FromResult(new HttpResponseMessage(HttpStatusCode.Conflict)
        {
            Content = JsonContent.Create(new { title = "The run has no trained weights yet.", status = 409 }),
        });
        var page = Render<RunDetail>(parameters => parameters.Add(p => p.Id, id));

        page.Find("#chart-confusion button[data-true='2'][data-predicted='1']").Click();

        page.WaitForAssertion(() => Assert.Contains("no trained weights", page.Find("#mistakes .problem").TextContent, StringComparison.Ordinal));
    }

    private Guid FinishedRun(int[][] confusion)
    {
        var id = Guid.NewGuid();
        var samples = confusion.Sum(row => row.Sum());
        var right = confusion.Select((row, c) => row[c]).Sum();
        Runs.Runs[id] = Samples.Run(id, RunStatus.Succeeded, Samples.Epoch(1)) with
        {
            Evaluation = RunEvaluations.FromConfusion("test", samples, 0.4, (double)right / samples, Iris, confusion),
        };
        return id;
    }

    private void Answer(Guid runId, RunMistakes mistakes) =>
        Api.Answers[$"/api/runs/{runId}/mistakes"] = Task.FromResult(new HttpResponseMessage(HttpStatusCode.OK)
        {
            Content = JsonContent.Create(mistakes, options: JsonConventions.Web),
        });

    private static MistakeSample Sample(int index, int trueClass, int predictedClass, float[] probabilities, float[]? features = null, string? png = null)
    {
        var ranked = probabilities.OrderDescending().ToArray();
        return new MistakeSample(index, index, trueClass, Iris[trueClass], predictedClass, Iris[predictedClass], probabilities, ranked[0] - ranked[1], features, png);
    }
}
