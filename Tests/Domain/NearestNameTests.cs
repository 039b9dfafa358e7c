using Experiments.Domain.Validation;

namespace Experiments.Tests.Domain;

public sealed class NearestNameTests
{
    private static readonly string[] RunFields = ["datasetId", "modelId", "optimizer", "loss", "epochs", "batchSize", "seed", "targetAccuracy", "device"];

    [Theory]
    [InlineData("targetAcuracy", "targetAccuracy")]
    [InlineData("target_accuracy", "targetAccuracy")]
    [InlineData("BatchSize", "batchSize")]
    [InlineData("epohcs", "epochs")]
    [InlineData("datasetID", "datasetId")]
    [InlineData("sed", "seed")]
    public void A_misspelling_finds_the_name_meant(string sent, string meant) => Assert.Equal(meant, NearestName.Find(sent, RunFields));

    [Theory]
    [InlineData("descripton")]
    [InlineData("x")]
    [InlineData("learningRate")]
    public void A_name_near_none_finds_nothing(string sent) => Assert.Null(NearestName.Find(sent, RunFields));

    [Fact]
    public void A_very_long_name_is_only_compared_letter_for_letter()
    {
        Assert.Null(NearestName.Find(new string('e', 10_000), RunFields));
        Assert.Equal("epochs", NearestName.Find("EPOCHS", RunFields));
    }

    [Fact]
    public void The_message_names_the_nearest_and_lists_the_valid_names()
    {
        Assert.Equal("is not a field of a run; did you mean 'seed'? The fields are seed, epochs.", NearestName.NotOneOf("sed", "field", "a run", ["seed", "epochs"]));
        Assert.Equal("is not a field of a run; the fields are seed, epochs.", NearestName.NotOneOf("colour", "field", "a run", ["seed", "epochs"]));
        Assert.Equal("is not a query parameter of GET /x; it takes no query parameters.", NearestName.NotOneOf("page", "query parameter", "GET /x", []));
    }
}
