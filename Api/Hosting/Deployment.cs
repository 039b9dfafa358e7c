using System.Text.RegularExpressions;
using Experiments.Api.Runs;

namespace Experiments.Api.Hosting;

/// <summary>
/// The engines and the role that configuration chooses for this process (docs/deploy.md), read and checked once at
/// start-up so that a wrong setting stops the service with a message naming it, before anything is opened.
/// </summary>
public sealed partial record Deployment(NodeRole Role, StorageEngine Storage, string? PostgreSqlConnectionString, BackplaneKind Backplane, string? RedisConnectionString)
{
    /// <summary><c>ConnectionStrings:Experiments</c>: the PostgreSQL database.</summary>
    public const string PostgreSqlConnectionName = "Experiments";

    /// <summary><c>ConnectionStrings:Redis</c>: the backplane's server, in StackExchange.Redis's format (host:port,password=…).</summary>
    public const string RedisConnectionName = "Redis";

    /// <summary><c>Experiments:Role</c>: what this process does: everything, only the web side, or only training.</summary>
    public const string RoleSetting = "Role";

    /// <summary><c>Experiments:Storage</c>: where the catalog, metrics and job queue live: SQLite files in the data folder, or one PostgreSQL database.</summary>
    public const string StorageSetting = "Storage";

    /// <summary><c>Experiments:Backplane</c>: how a run's live events reach clients of other processes: not at all, or through Redis.</summary>
    public const string BackplaneSetting = "Backplane";

    /// <summary>The embedded default: SQLite, no backplane, everything in one process.</summary>
    public static Deployment Embedded { get; } = new(NodeRole.All, StorageEngine.Sqlite, null, BackplaneKind.None, null);

    /// <summary>The deployment <paramref name="configuration"/> describes; <see cref="InvalidOperationException"/> naming the setting to fix.</summary>
    public static Deployment Read(IConfiguration configuration)
    {
        var section = configuration.GetSection(ExperimentsOptions.Section);
        var role = ParseEnum<NodeRole>(section, RoleSetting, NodeRole.All);
        var storage = ParseEnum<StorageEngine>(section, StorageSetting, StorageEngine.Sqlite);
        var backplane = ParseEnum<BackplaneKind>(section, BackplaneSetting, BackplaneKind.None);
        var postgreSql = configuration.GetConnectionString(PostgreSqlConnectionName);
        var redis = configuration.GetConnectionString(RedisConnectionName);
        if (storage == StorageEngine.PostgreSql && string.IsNullOrWhiteSpace(postgreSql))
        {
            throw new InvalidOperationException(
                $"{ExperimentsOptions.Section}:{StorageSetting} is PostgreSql but ConnectionStrings:{PostgreSqlConnectionName} is not set; "
                + "set it, e.g. ConnectionStrings__Experiments=\"Host=db;Database=experiments;Username=experiments;Password=…\".");
        }
        if (backplane == BackplaneKind.Redis && string.IsNullOrWhiteSpace(redis))
        {
            throw new InvalidOperationException(
                $"{ExperimentsOptions.Section}:{BackplaneSetting} is Redis but ConnectionStrings:{RedisConnectionName} is not set; "
                + "set it, e.g. ConnectionStrings__Redis=\"redis:6379\".");
        }
        if (role != NodeRole.All && storage == StorageEngine.Sqlite)
        {
            throw new InvalidOperationException(
                $"{ExperimentsOptions.Section}:{RoleSetting} is {role} but {ExperimentsOptions.Section}:{StorageSetting} is Sqlite: "
                + "web and worker processes share one database, which SQLite files cannot be across processes and machines; set Storage to PostgreSql (docs/deploy.md).");
        }
        var queues = section.GetSection(nameof(ExperimentsOptions.Queues)).Get<string[]>() ?? [];
        for (var index = 0; index < queues.Length; index++)
        {
            if (!QueueName().IsMatch(queues[index]))
            {
                throw new InvalidOperationException(
                    $"{ExperimentsOptions.Section}:{nameof(ExperimentsOptions.Queues)}:{index} is '{queues[index]}'; a queue name is lowercase letters, digits and _ "
                    + $"(the runs' queues are {TrainRunJob.Queue} and {TrainRunJob.GpuQueue}).");
            }
        }
        return new Deployment(role, storage, storage == StorageEngine.PostgreSql ? postgreSql : null,
            backplane, backplane == BackplaneKind.Redis ? redis : null);
    }

    private static TEnum ParseEnum<TEnum>(IConfigurationSection section, string key, TEnum fallback) where TEnum : struct, Enum
    {
        var text = section[key];
        if (string.IsNullOrWhiteSpace(text))
        {
            return fallback;
        }
        return Enum.TryParse<TEnum>(text.Trim(), ignoreCase: true, out var value) && Enum.IsDefined(value) && !char.IsAsciiDigit(text.Trim()[0])
            ? value
            : throw new InvalidOperationException(
                $"{section.Path}:{key} is '{text}'; it is one of {string.Join(", ", Enum.GetNames<TEnum>())}.");
    }

    [GeneratedRegex("^[a-z0-9_]{1,50}$")]
    private static partial Regex QueueName();
}

public static class DeploymentReport
{
    /// <summary>
    /// Says at start-up what this process is (role, engines, never a password) and warns of a split deployment without a
    /// backplane; connects the backplane now rather than at the first event.
    /// </summary>
    public static void ReportDeployment(this IServiceProvider services)
    {
        var deployment = services.GetRequiredService<Deployment>();
        var logger = services.GetRequiredService<ILoggerFactory>().CreateLogger("Experiments.Deployment");
        var storage = deployment.Storage == StorageEngine.PostgreSql && new Npgsql.NpgsqlConnectionStringBuilder(deployment.PostgreSqlConnectionString) is var postgres
            ? $"PostgreSQL database '{postgres.Database}' on {postgres.Host}:{postgres.Port}"
            : "SQLite in the data folder";
        var backplane = deployment.Backplane == BackplaneKind.Redis
            ? $"Redis at {string.Join(", ", StackExchange.Redis.ConfigurationOptions.Parse(deployment.RedisConnectionString!).EndPoints)}"
            : "none";
        logger.LogInformation("Role {Role}; storage: {Storage}; backplane: {Backplane}.", deployment.Role.ToString().ToLowerInvariant(), storage, backplane);
        if (deployment.Role != NodeRole.All && deployment.Backplane == BackplaneKind.None)
        {
            logger.LogWarning("Role {Role} without a backplane: live events of runs trained by other processes never reach this one's clients "
                + "(the dashboard still shows them from REST). Set Experiments:Backplane=Redis and ConnectionStrings:Redis (docs/deploy.md).",
                deployment.Role.ToString().ToLowerInvariant());
        }
        _ = services.GetRequiredService<Microsoft.AspNetCore.SignalR.IHubContext<RunsHub, Domain.Runs.IRunsClient>>();
    }
}
