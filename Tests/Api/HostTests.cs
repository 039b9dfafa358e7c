using System.Net;
using System.Text.Json;
using Experiments.Domain.Datasets;
using Experiments.Tests.Support;

namespace Experiments.Tests.Api;

[Collection(OneAtATime.Name)]
public sealed class HostTests(ApiFactory factory) : IClassFixture<ApiFactory>
{
    private readonly HttpClient _client = factory.CreateClient();

    [Theory]
    [InlineData("/health")]
    [InlineData("/api/runs")]
    [InlineData("/api/datasets")]
    [InlineData("/swagger/v1/swagger.json")]
    [InlineData("/")]
    public async Task Regression_head_is_answered_on_every_get_route_as_get_would_without_a_body(string path)
    {
        var get = await _client.GetAsync(path);
        var head = await _client.SendAsync(new HttpRequestMessage(HttpMethod.Head, path));

        Assert.Equal(HttpStatusCode.OK, get.StatusCode);
        Assert.Equal(HttpStatusCode.OK, head.StatusCode);
        Assert.Equal(get.Content.Headers.ContentType, head.Content.Headers.ContentType);
        Assert.Empty(await head.Content.ReadAsByteArrayAsync());
        Assert.Equal(HttpStatusCode.NotFound, (await _client.SendAsync(new HttpRequestMessage(HttpMethod.Head, $"/api/datasets/{Guid.NewGuid()}"))).StatusCode);
    }

    [Fact]
    public async Task Health_reports_the_database_hangfire_and_torchsharp()
    {
        var response = await _client.GetAsync("/health");
        using var health = JsonDocument.Parse(await response.Content.ReadAsStringAsync());

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("Healthy", health.RootElement.GetProperty("status").GetString());
        var checks = health.RootElement.GetProperty("checks");
        foreach (var name in new[] { "database", "hangfire", "torchSharp" })
        {
            Assert.Equal("Healthy", checks.GetProperty(name).GetProperty("status").GetString());
        }
        Assert.Equal("0.107.0", checks.GetProperty("torchSharp").GetProperty("data").GetProperty("torchSharp").GetString());
    }

    [Fact]
    public async Task The_data_folder_holds_both_sqlite_databases_and_the_app_database_is_in_wal_mode()
    {
        await _client.GetAsync("/health");

        Assert.True(File.Exists(Path.Combine(factory.DataFolder, "experiments.db")));
        Assert.True(File.Exists(Path.Combine(factory.DataFolder, "hangfire.db")));
        await using var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={Path.Combine(factory.DataFolder, "experiments.db")}");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA journal_mode;";
        Assert.Equal("wal", (string?)await command.ExecuteScalarAsync());
    }

    [Fact]
    public async Task Swagger_describes_every_endpoint_with_request_and_response_schemas()
    {
        using var document = JsonDocument.Parse(await _client.GetStringAsync("/swagger/v1/swagger.json"));
        var paths = document.RootElement.GetProperty("paths");

        var createRun = paths.GetProperty("/api/runs").GetProperty("post");
        Assert.Equal("#/components/schemas/RunSpec",
            createRun.GetProperty("requestBody").GetProperty("content").GetProperty("application/json").GetProperty("schema").GetProperty("$ref").GetString());
        Assert.Equal("#/components/schemas/RunView",
            createRun.GetProperty("responses").GetProperty("202").GetProperty("content").GetProperty("application/json").GetProperty("schema").GetProperty("$ref").GetString());
        Assert.True(createRun.GetProperty("responses").TryGetProperty("400", out _));

        var import = paths.GetProperty("/api/datasets").GetProperty("post");
        Assert.True(import.GetProperty("requestBody").GetProperty("content").TryGetProperty("multipart/form-data", out _));

        var layer = document.RootElement.GetProperty("components").GetProperty("schemas").GetProperty("LayerSpec");
        Assert.Contains("linear", layer.GetProperty("discriminator").GetProperty("mapping").EnumerateObject().Select(e => e.Name));
        Assert.Equal("linear", layer.GetProperty("example").GetProperty("type").GetString());

        Assert.Equal(HttpStatusCode.OK, (await _client.GetAsync("/swagger/index.html")).StatusCode);
    }

    [Fact]
    public async Task The_dashboard_and_blazors_script_are_served_outside_development()
    {
        var page = await _client.GetAsync("/");
        var script = await _client.GetAsync("/_framework/blazor.web.js");

        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Contains("<h1>Runs</h1>", await page.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, script.StatusCode);
    }

    [Fact]
    public async Task Importing_the_same_bytes_again_returns_the_existing_dataset_with_200()
    {
        var bytes = await File.ReadAllBytesAsync(Workflow.IrisPath);
        var first = await _client.PostAsync("/api/datasets", Workflow.CsvForm(bytes, "iris.csv"));
        var second = await _client.PostAsync("/api/datasets", Workflow.CsvForm(bytes, "iris.csv"));

        Assert.True(first.StatusCode is HttpStatusCode.Created or HttpStatusCode.OK);
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        var described = await second.ReadAsAsync<DatasetView>();
        Assert.Equal((await first.ReadAsAsync<DatasetView>()).Id, described.Id);
        Assert.Equal(["setosa", "versicolor", "virginica"], described.ClassNames);
        Assert.Equal([50, 50, 50], described.ClassCounts);
        Assert.Equal((120, 30), (described.TrainCount, described.TestCount));
        Assert.Equal([4], described.SampleShape);
    }

    [Fact]
    public void Entity_framework_and_hangfire_share_one_sqlite_native_stack()
    {
        var loaded = AppDomain.CurrentDomain.GetAssemblies()
            .Where(assembly => assembly.GetName().Name == "SQLitePCLRaw.core")
            .Select(assembly => assembly.GetName().Version!)
            .ToList();

        Assert.Equal(3, Assert.Single(loaded).Major);
        Assert.DoesNotContain(AppDomain.CurrentDomain.GetAssemblies(), assembly => assembly.GetName().Name == "SQLitePCLRaw.provider.dynamic_cdecl");
    }
}
