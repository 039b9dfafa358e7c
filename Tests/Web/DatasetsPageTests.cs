using Bunit;
using Experiments.Web.Components.Pages;
using Experiments.Web.Components.Shared;

namespace Experiments.Tests.Web;

public sealed class DatasetsPageTests : DashboardContext
{
    [Fact]
    public void Selecting_a_tabular_dataset_previews_its_rows_and_the_other_split_on_request()
    {
        var iris = Samples.Dataset("iris", [4], ["setosa", "versicolor", "virginica"]);
        Datasets.Items.Add(iris);
        Datasets.Previews[(iris.Id, false)] = Samples.Preview(iris, test: false, images: false,
            ([5.1f, 3.5f, 1.4f, 0.2f], "setosa"), ([7f, 3.2f, 4.7f, 1.4f], "versicolor"));
        Datasets.Previews[(iris.Id, true)] = Samples.Preview(iris, test: true, images: false, ([6.3f, 3.3f, 6f, 2.5f], "virginica"));
        var page = Render<Datasets>();
        Assert.Empty(Datasets.Previewed);

        page.Find("#datasets tbody tr.clickable").Click();

        var rows = page.FindAll(".sample-rows tbody tr");
        Assert.Equal(2, rows.Count);
        Assert.Equal(["#", "x0", "x1", "x2", "x3", "class"], page.FindAll(".sample-rows thead th").Select(th => th.TextContent.Trim()));
        Assert.Equal(["0", "5.1", "3.5", "1.4", "0.2", "setosa"], rows[0].QuerySelectorAll("td").Select(td => td.TextContent.Trim()));
        Assert.Equal((iris.Id, false, SamplePreview.Count), Assert.Single(Datasets.Previewed));

        page.Find("[data-split='test']").Click();

        Assert.Equal("test", page.Find(".sample-rows").GetAttribute("data-split"));
        Assert.Equal("virginica", page.Find(".sample-rows tbody tr td:last-child").TextContent.Trim());
        Assert.Equal("true", page.Find("button[data-split='test']").GetAttribute("aria-pressed"));
        Assert.Equal((iris.Id, true, SamplePreview.Count), Datasets.Previewed[^1]);
    }

    [Fact]
    public void An_image_dataset_previews_a_grid_of_its_images_with_their_labels()
    {
        var digits = Samples.Dataset("mnist", [28, 28], [.. Enumerable.Range(0, 10).Select(digit => digit.ToString(System.Globalization.CultureInfo.InvariantCulture))]);
        Datasets.Previews[(digits.Id, false)] = Samples.Preview(digits, test: false, images: true, ([1, 2, 3], "5"), ([4, 5, 6], "0"), ([7, 8, 9], "4"));

        var preview = Render<SamplePreview>(parameters => parameters.Add(p => p.Dataset, digits));

        var figures = preview.FindAll(".sample-images figure");
        Assert.Equal(["5", "0", "4"], figures.Select(figure => figure.QuerySelector("figcaption")!.TextContent.Trim()));
        Assert.StartsWith("data:image/png;base64,", figures[0].QuerySelector("img")!.GetAttribute("src"), StringComparison.Ordinal);
        Assert.Equal("train sample 0: 5", figures[0].QuerySelector("img")!.GetAttribute("alt"));
        Assert.Empty(preview.FindAll("table"));
    }

    [Fact]
    public void A_dataset_deleted_meanwhile_says_so_instead_of_a_preview()
    {
        var gone = Samples.Dataset("gone", [4], ["a", "b"]);

        var preview = Render<SamplePreview>(parameters => parameters.Add(p => p.Dataset, gone));

        Assert.Contains("no longer exists", preview.Markup, StringComparison.Ordinal);
    }
}
