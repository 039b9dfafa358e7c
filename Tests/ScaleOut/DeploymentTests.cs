using Experiments.Api.Hosting;
using Experiments.Api.Runs;
using Experiments.Domain.Runs;
using Experiments.Tests.Support;
using Microsoft.Extensions.Configuration;

namespace Experiments.Tests.ScaleOut;

/// <summary>What configuration chooses (docs/deploy.md), and the messages that name a wrong setting.</summary>
public sealed class DeploymentTests
{
    private static Deployment Read(params (string Key, string Value)[] settings) =>
        Deployment.Read(new ConfigurationBuilder().AddInMemoryCollection(settings.Select(s => KeyValuePair.Create(s.Key, (string?)s.Value))).Build());

    private static string Refusal(params (string Key, string Value)[] settings) =>
        Assert.Throws<InvalidOperationException>(() => Read(settings)).Message;

    [Fact]
    public void Nothing_configured_is_the_embedded_service() => Assert.Equal(Deployment.Embedded, Read());

    [Fact]
    public void Engines_and_roles_are_read_case_insensitively_with_their_connection_strings()
    {
        var deployment = Read(("Experiments:Role", "worker"), ("Experiments:Storage", "postgresql"), ("ConnectionStrings:Experiments", "Host=db"),
            ("Experiments:Backplane", "REDIS"), ("ConnectionStrings:Redis", "redis:6379"));

        Assert.Equal(new Deployment(NodeRole.Worker, StorageEngine.PostgreSql, "Host=db", BackplaneKind.Redis, "redis:6379"), deployment);
    }

    [Theory]
    [InlineData("Experiments:Storage", "Postgres", "Experiments:Storage is 'Postgres'; it is one of Sqlite, PostgreSql.")]
    [InlineData("Experiments:Storage", "1", "Experiments:Storage is '1'; it is one of Sqlite, PostgreSql.")]
    [InlineData("Experiments:Role", "trainer", "Experiments:Role is 'trainer'; it is one of All, Web, Worker.")]
    [InlineData("Experiments:Backplane", "kafka", "Experiments:Backplane is 'kafka'; it is one of None, Redis.")]
    [InlineData("Experiments:Queues:0", "GPU!", "Experiments:Queues:0 is 'GPU!'; a queue name is lowercase letters, digits and _")]
    public void A_wrong_value_is_refused_naming_the_setting_and_its_values(string key, string value, string expected) =>
        Assert.StartsWith(expected, Refusal((key, value)), StringComparison.Ordinal);

    [Fact]
    public void An_engine_without_its_connection_string_is_refused_naming_it()
    {
        Assert.Contains("ConnectionStrings:Experiments is not set", Refusal(("Experiments:Storage", "PostgreSql")), StringComparison.Ordinal);
        Assert.Contains("ConnectionStrings:Redis is not set", Refusal(("Experiments:Backplane", "Redis")), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("web")]
    [InlineData("worker")]
    public void A_split_deployment_on_SQLite_is_refused(string role) =>
        Assert.Contains("set Storage to PostgreSql", Refusal(("Experiments:Role", role)), StringComparison.Ordinal);

    [Theory]
    [InlineData(TrainingDevice.Cuda, "gpu")]
    [InlineData(TrainingDevice.Cpu, "training")]
    [InlineData(TrainingDevice.Auto, "training")]
    public void A_run_is_queued_by_its_device(TrainingDevice device, string queue) =>
        Assert.Equal(queue, TrainRunJob.QueueFor(new RunSpec { Device = device }));

    [Fact]
    public async Task The_service_stops_at_start_up_with_exit_code_2_naming_the_setting()
    {
        using var folder = new TemporaryFolder();

        var (exitCode, output) = await ServiceProcess.StartExpectingExitAsync(folder.Path, "--Experiments:Storage=Postgres");

        Assert.Equal(2, exitCode);
        Assert.Contains("Refusing to start: Experiments:Storage is 'Postgres'; it is one of Sqlite, PostgreSql.", output, StringComparison.Ordinal);
    }
}
