using Experiments.Api.Hosting;
using Experiments.Domain;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using StackExchange.Redis;

namespace Experiments.Api.Runs;

public static class LiveEventsExtensions
{
    /// <summary>Redis channels of this service start so, apart from other applications' on the same server.</summary>
    public const string ChannelPrefix = "experiments";

    /// <summary>
    /// SignalR for the runs hub, in every role: a worker publishes its runs' events through the hub context even though it
    /// serves no hub. With the Redis backplane, what any process publishes reaches the clients of every web node.
    /// </summary>
    public static IHostApplicationBuilder AddLiveEvents(this IHostApplicationBuilder builder, Deployment deployment)
    {
        // Hub payloads in the REST API's JSON: enums as their camelCase names ("running"), not as numbers.
        var signalR = builder.Services.AddSignalR().AddJsonProtocol(json => JsonConventions.Apply(json.PayloadSerializerOptions));
        if (deployment.Backplane != BackplaneKind.Redis)
        {
            return builder;
        }
        var backplane = new RedisBackplane();
        builder.Services.AddSingleton(backplane);
        signalR.AddStackExchangeRedis(redis =>
        {
            redis.Configuration = ConfigurationOptions.Parse(deployment.RedisConnectionString!);
            redis.Configuration.ChannelPrefix = RedisChannel.Literal(ChannelPrefix);
            // Start and keep running without Redis: live events pause and the dashboard reads REST; runs never wait on it.
            redis.Configuration.AbortOnConnectFail = false;
            redis.ConnectionFactory = async log =>
            {
                var connection = await ConnectionMultiplexer.ConnectAsync(redis.Configuration, log);
                backplane.Connection = connection;
                return connection;
            };
        });
        builder.Services.AddHealthChecks().AddCheck<RedisBackplaneHealthCheck>("backplane");
        return builder;
    }
}

/// <summary>The connection of SignalR's Redis backplane, once made, for the health check.</summary>
public sealed class RedisBackplane
{
    public IConnectionMultiplexer? Connection { get; set; }
}

/// <summary>Degraded, never unhealthy, without Redis: training and REST go on; only live events to other nodes pause.</summary>
internal sealed class RedisBackplaneHealthCheck(RedisBackplane backplane) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(backplane.Connection is { IsConnected: true }
            ? HealthCheckResult.Healthy("Connected to Redis: live events reach every web node.")
            : HealthCheckResult.Degraded("Not connected to Redis: live events of runs trained elsewhere pause; REST and training go on."));
}
