using Experiments.Tests.Support;
using System.Net;
using System.Net.Http.Headers;

namespace Experiments.Tests.Api.Access;

/// <summary>The same binary manages keys and refuses to serve a network without them: real processes on real data folders.</summary>
[Collection(OneAtATime.Name)]
public sealed class KeysCommandTests
{
    [Fact]
    public async Task Keys_create_prints_the_key_alone_on_the_last_line_list_never_shows_it_and_revoke_ends_it()
    {
        using var data = new TemporaryFolder();
        var created = await ServiceProcess.RunCommandAsync(data.Path, "keys", "create", "--name", "alice", "--role", "editor", "--expires", "30d");
        Assert.True(created.ExitCode == 0, created.StandardError);
        var key = created.StandardOutput.TrimEnd().Split('\n')[^1].Trim();
        Assert.Matches("^exp_[A-Za-z0-9_-]{43}$", key);
        Assert.Contains("shown once", created.StandardError);

        var listed = await ServiceProcess.RunCommandAsync(data.Path, "keys", "list");
        Assert.Equal(0, listed.ExitCode);
        Assert.Contains("alice", listed.StandardOutput);
        Assert.Contains("editor", listed.StandardOutput);
        Assert.DoesNotContain(key, listed.StandardOutput + listed.StandardError);

        var twice = await ServiceProcess.RunCommandAsync(data.Path, "keys", "create", "--name", "alice", "--role", "viewer");
        Assert.Equal(1, twice.ExitCode);
        Assert.Contains("already named 'alice'", twice.StandardError);
        var badRole = await ServiceProcess.RunCommandAsync(data.Path, "keys", "create", "--name", "bob", "--role", "superuser");
        Assert.Equal(1, badRole.ExitCode);
        Assert.Contains("--role", badRole.StandardError);
        var usage = await ServiceProcess.RunCommandAsync(data.Path, "keys", "rotate");
        Assert.Equal(2, usage.ExitCode);
        Assert.Contains("Usage", usage.StandardError);

        await using (var service = await ServiceProcess.StartAsync(data.Path))
        {
            using var client = service.CreateClient();
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/datasets")).StatusCode);
            using var anonymous = service.CreateClient();
            Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/api/datasets")).StatusCode);

            // Revoked from the command line while the service runs: the next request is refused.
            var revoked = await ServiceProcess.RunCommandAsync(data.Path, "keys", "revoke", "--name", "alice");
            Assert.True(revoked.ExitCode == 0, revoked.StandardError);
            Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync("/api/datasets")).StatusCode);
        }
        var unknown = await ServiceProcess.RunCommandAsync(data.Path, "keys", "revoke", "--name", "alice");
        Assert.Equal(1, unknown.ExitCode);
    }

    [Fact]
    public async Task A_service_on_a_network_address_without_keys_refuses_to_start_and_names_the_command()
    {
        using var data = new TemporaryFolder();
        var (exitCode, output) = await ServiceProcess.StartExpectingExitAsync(data.Path, "--urls=http://0.0.0.0:0");
        Assert.NotEqual(0, exitCode);
        Assert.Contains("keys create", output);

        var created = await ServiceProcess.RunCommandAsync(data.Path, "keys", "create", "--name", "root", "--role", "admin");
        Assert.Equal(0, created.ExitCode);
        // With a key, the same binding starts (it is then reachable only with a key).
        await using var service = await ServiceProcess.StartListeningOnAsync("0.0.0.0", data.Path);
        using var client = service.CreateClient();
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/health")).StatusCode);
    }
}
