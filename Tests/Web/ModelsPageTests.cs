using Bunit;
using Experiments.Domain.Models;
using Experiments.Web.Components.Pages;
using Experiments.Web.Forms;

namespace Experiments.Tests.Web;

public sealed class ModelsPageTests : DashboardContext
{
    [Fact]
    public void Every_template_of_the_api_is_offered()
    {
        var page = Render<Models>();

        Assert.Equal(ModelTemplates.All.Select(template => template.Name), page.FindAll(".template-card").Select(card => card.GetAttribute("data-template")));
    }

    [Fact]
    public void Picking_a_template_fills_the_name_and_the_editor_and_checks_it_against_its_input_shape()
    {
        Datasets.Items.Add(Samples.Dataset("iris", [4], ["setosa", "versicolor", "virginica"]));
        var page = Render<Models>();
        var lenet = ModelTemplates.All.Single(template => template.Name == "lenet5");

        page.Find("[data-template='lenet5']").Click();

        Assert.Equal("lenet5", page.Find("#model-name").GetAttribute("value"));
        Assert.Equal("1, 28, 28", page.Find("#input-shape").GetAttribute("value"));
        var (layers, error) = LayerJson.Parse(page.Find("#layers").GetAttribute("value")!);
        Assert.Null(error);
        Assert.Equal(lenet.Layers.Select(layer => layer.Type), layers!.Select(layer => layer!.Type));
        var (path, body) = Api.Requests[^1];
        Assert.Equal("/api/models/validate", path);
        Assert.Contains("\"inputShape\":[1,28,28]", body, StringComparison.Ordinal);
        // LeNet-5 on 28×28: 156 + 2,416 + 48,120 + 10,164 + 850 parameters.
        page.WaitForAssertion(() => Assert.Equal("61,706", page.Find("#total-parameters").TextContent.Trim()));
        Assert.Contains("selected", page.Find("[data-template='lenet5']").ClassList);
        Assert.DoesNotContain("selected", page.Find("[data-template='mlp']").ClassList);
        Assert.False(page.Find("#save-model").HasAttribute("disabled"));
    }
}
