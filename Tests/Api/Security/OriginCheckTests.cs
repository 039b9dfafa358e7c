using System.Net;
using System.Net.Http.Json;
using System.Net.WebSockets;
using Experiments.Domain.Runs;
using Experiments.Tests.Support;

namespace Experiments.Tests.Api.Security;

/// <summary>What a page of another site makes a browser send (an Origin, Sec-Fetch-Site) is refused; the same without it, or from this service's own origin, works.</summary>
[Collection(OneAtATime.Name)]
public sealed class OriginCheckTests(KestrelHost host) : IClassFixture<KestrelHost>
{
    private const string Evil = "http://evil.example";

    [Fact]
    public async Task A_cross_site_form_post_to_cancel_a_run_is_refused_with_403_and_the_run_is_not_cancelled()
    {
        using var client = host.CreateClient();
        var run = await QueueRunAsync(client);

        var response = await client.SendAsync(FormPost($"/api/runs/{run.Id}/cancel", Evil));

        var problem = await ProblemAssertions.ExpectProblemAsync(response, HttpStatusCode.Forbidden);
        Assert.Contains("'http://evil.example' is not this service's origin", problem.Errors["Origin"][0]);
        Assert.Contains("Experiments:Cors:AllowedOrigins", problem.Errors["Origin"][0]);
        Assert.Equal(RunStatus.Queued, (await (await client.GetAsync($"/api/runs/{run.Id}")).ReadAsAsync<RunView>()).Status);
    }

    [Theory]
    [InlineData("null")]
    [InlineData("http://127.0.0.1")]
    [InlineData("https://127.0.0.1")]
    [InlineData("http://evil.example, http://127.0.0.1")]
    public async Task An_origin_that_is_not_exactly_the_services_own_is_refused(string origin)
    {
        using var client = host.CreateClient();
        var run = await QueueRunAsync(client);

        var response = await client.SendAsync(FormPost($"/api/runs/{run.Id}/cancel", origin.Replace("127.0.0.1, ", $"127.0.0.1:{host.Address.Port}, ", StringComparison.Ordinal)));

        await ProblemAssertions.ExpectProblemAsync(response, HttpStatusCode.Forbidden);
    }

    [Fact]
    public async Task A_post_marked_cross_site_by_the_browser_is_refused_even_without_an_origin()
    {
        using var client = host.CreateClient();
        var run = await QueueRunAsync(client);
        var request = FormPost($"/api/runs/{run.Id}/cancel", origin: null);
        request.Headers.Add("Sec-Fetch-Site", "cross-site");

        var problem = await ProblemAssertions.ExpectProblemAsync(await client.SendAsync(request), HttpStatusCode.Forbidden);

        Assert.Contains("is 'cross-site'", problem.Errors["Sec-Fetch-Site"][0]);
    }

    [Fact]
    public async Task The_services_own_origin_and_a_request_without_origin_may_cancel()
    {
        using var client = host.CreateClient();
        var fromOwnPage = await QueueRunAsync(client);
        var fromCurl = await QueueRunAsync(client);
        var ownPage = FormPost($"/api/runs/{fromOwnPage.Id}/cancel", host.OwnOrigin);
        ownPage.Headers.Add("Sec-Fetch-Site", "same-origin");

        Assert.Equal(HttpStatusCode.Accepted, (await client.SendAsync(ownPage)).StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, (await client.PostAsync($"/api/runs/{fromCurl.Id}/cancel", content: null)).StatusCode);
    }

    [Fact]
    public async Task A_cross_site_read_is_served_reads_change_nothing_and_a_browser_lets_no_other_site_read_the_answer()
    {
        using var client = host.CreateClient();
        var request = new HttpRequestMessage(HttpMethod.Get, "/api/runs");
        request.Headers.Add("Origin", Evil);
        request.Headers.Add("Sec-Fetch-Site", "cross-site");

        var response = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.False(response.Headers.Contains("Access-Control-Allow-Origin"));
    }

    [Theory]
    [InlineData("/hubs/runs")]
    [InlineData("/_blazor")]
    public async Task A_websocket_to_a_hub_from_another_sites_page_is_refused_with_403_instead_of_101(string hub)
    {
        var status = await OpenWebSocketAsync(hub, Evil);

        Assert.Equal(HttpStatusCode.Forbidden, status);
    }

    [Fact]
    public async Task A_websocket_to_the_runs_hub_from_the_services_own_page_or_without_origin_opens()
    {
        Assert.Equal(HttpStatusCode.SwitchingProtocols, await OpenWebSocketAsync("/hubs/runs", host.OwnOrigin));
        Assert.Equal(HttpStatusCode.SwitchingProtocols, await OpenWebSocketAsync("/hubs/runs", origin: null));
    }

    [Theory]
    [InlineData("/hubs/runs/negotiate?negotiateVersion=1")]
    [InlineData("/_blazor/negotiate?negotiateVersion=1")]
    public async Task A_hub_negotiation_from_another_sites_page_is_refused_and_from_the_services_own_page_answered(string negotiate)
    {
        using var client = host.CreateClient();

        var foreign = await client.SendAsync(FormPost(negotiate, Evil));
        var own = await client.SendAsync(FormPost(negotiate, host.OwnOrigin));

        await ProblemAssertions.ExpectProblemAsync(foreign, HttpStatusCode.Forbidden);
        Assert.Equal(HttpStatusCode.OK, own.StatusCode);
    }

    /// <summary>The status of the WebSocket handshake: 101 when it opened.</summary>
    private async Task<HttpStatusCode> OpenWebSocketAsync(string path, string? origin)
    {
        using var socket = new ClientWebSocket();
        socket.Options.CollectHttpResponseDetails = true;
        if (origin is not null)
        {
            socket.Options.SetRequestHeader("Origin", origin);
        }
        var uri = new UriBuilder(host.Address) { Scheme = "ws", Path = path }.Uri;
        try
        {
            await socket.ConnectAsync(uri, CancellationToken.None);
            await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
        }
        catch (WebSocketException)
        {
            // Refused: the status is in the response details.
        }
        return socket.HttpStatusCode;
    }

    /// <summary>What an HTML form on a page sends: a form body, the page's Origin.</summary>
    private static HttpRequestMessage FormPost(string path, string? origin)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path)
        {
            Content = new FormUrlEncodedContent([new("reason", "cancelled by another site")]),
        };
        if (origin is not null)
        {
            request.Headers.TryAddWithoutValidation("Origin", origin);
        }
        return request;
    }

    private static async Task<RunView> QueueRunAsync(HttpClient client)
    {
        var (datasetId, modelId) = await Workflow.ImportIrisAndMlpAsync(client);
        return await Workflow.CreateRunAsync(client, datasetId, modelId);
    }
}
