using System.Net.Http.Headers;
using System.Text.Json;
using Experiments.Domain.Access;
using Experiments.Tests.Api.Access;
using Experiments.Tests.Support;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;

namespace Experiments.Tests.Api;

/// <summary>
/// The runs hub through the JavaScript client users take from npm (@microsoft/signalr, Tests/Clients/hub-client.mjs),
/// with a key, on a real port: enums arrive as REST's names, the queueing is an event, every epoch arrives in order.
/// </summary>
[Collection(OneAtATime.Name)]
public sealed class JavaScriptHubClientTests
{
    [Fact]
    public async Task A_javascript_client_receives_a_runs_queueing_its_epochs_in_order_batch_losses_and_its_end_as_rest_names()
    {
        // Checks that Node.js and the npm packages are installed (with the command that installs them when not).
        _ = ExternalTools.NpmCommand("tsc");
        const string node = "node";
        using var factory = new ApiFactory();
        factory.UseKestrel(0);
        factory.StartServer();
        var address = new Uri(factory.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
        var key = await Keys.CreateAsync(factory, "alice", Role.Editor);
        using var client = new HttpClient { BaseAddress = address };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        var (datasetId, modelId) = await Workflow.ImportIrisAndMlpAsync(client);

        var (exitCode, output) = await ExternalTools.RunAsync(node, ["hub-client.mjs", address.ToString(), datasetId.ToString(), modelId.ToString()],
            ExternalTools.NpmFolder, TimeSpan.FromMinutes(3), new Dictionary<string, string> { ["EXPERIMENTS_KEY"] = key });
        Assert.True(exitCode == 0, output);
        var line = output.Split('\n', StringSplitOptions.RemoveEmptyEntries).First(text => text.StartsWith('{'));
        var answer = JsonDocument.Parse(line).RootElement;
        var runId = answer.GetProperty("runId").GetString();
        var events = answer.GetProperty("events").EnumerateArray()
            .Where(e => e.GetProperty("payload").GetProperty("runId").GetString() == runId).ToList();
        var statuses = events.Where(e => e.GetProperty("event").GetString() == "RunStatusChanged")
            .Select(e => e.GetProperty("payload").GetProperty("status").GetString()).ToList();
        Assert.Equal(["queued", "running", "succeeded"], statuses);
        var final = events.Last(e => e.GetProperty("event").GetString() == "RunStatusChanged").GetProperty("payload");
        Assert.Equal("epochsCompleted", final.GetProperty("stopReason").GetString());
        var epochs = events.Where(e => e.GetProperty("event").GetString() == "EpochCompleted")
            .Select(e => e.GetProperty("payload").GetProperty("metric").GetProperty("epoch").GetInt32()).ToList();
        Assert.Equal([1, 2, 3, 4], epochs);
        var batches = events.Where(e => e.GetProperty("event").GetString() == "BatchProgress").Select(e => e.GetProperty("payload")).ToList();
        Assert.NotEmpty(batches);
        Assert.All(batches, batch => Assert.Equal(JsonValueKind.Number, batch.GetProperty("loss").ValueKind));
        Assert.Contains(events, e => e.GetProperty("event").GetString() == "LogLine");
    }
}
