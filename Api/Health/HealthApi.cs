using System.Text.Json;
using Experiments.Api.Persistence;
using Experiments.Training.Runtime;
using Hangfire;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Experiments.Api.Health;

/// <summary><c>GET /health</c>: the database, Hangfire's storage and servers, and TorchSharp's native library.</summary>
public static class HealthApi
{
    public static IHostApplicationBuilder AddHealth(this IHostApplicationBuilder builder)
    {
        builder.Services.AddHealthChecks()
            .AddCheck<DatabaseHealthCheck>("database")
            .AddCheck<HangfireHealthCheck>("hangfire")
            .AddCheck<TorchSharpHealthCheck>("torchSharp");
        return builder;
    }

    public static IEndpointRouteBuilder MapHealth(this IEndpointRouteBuilder app)
    {
        app.MapHealthChecks("/health", new HealthCheckOptions { ResponseWriter = WriteAsync })
            .WithTags("Health")
            .AllowAnonymous()
            .WithSummary("Liveness and readiness: database, Hangfire and TorchSharp native load");
        return app;
    }

    private static Task WriteAsync(HttpContext context, HealthReport report)
    {
        context.Response.ContentType = "application/json";
        var body = new
        {
            status = report.Status.ToString(),
            checks = report.Entries.ToDictionary(
                entry => entry.Key,
                entry => new { status = entry.Value.Status.ToString(), description = entry.Value.Description, data = entry.Value.Data }),
        };
        return context.Response.WriteAsync(JsonSerializer.Serialize(body, JsonSerializerOptions.Web));
    }

    private sealed class DatabaseHealthCheck(IDbContextFactory<ExperimentsDbContext> databases) : IHealthCheck
    {
        public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        {
            await using var db = await databases.CreateDbContextAsync(cancellationToken);
            var pending = (await db.Database.GetPendingMigrationsAsync(cancellationToken)).ToList();
            if (!await db.Database.CanConnectAsync(cancellationToken))
            {
                return HealthCheckResult.Unhealthy("The SQLite database cannot be opened.");
            }
            return pending.Count == 0
                ? HealthCheckResult.Healthy("SQLite database is up to date.")
                : HealthCheckResult.Unhealthy($"Migrations not applied: {string.Join(", ", pending)}.");
        }
    }

    private sealed class HangfireHealthCheck(JobStorage storage) : IHealthCheck
    {
        public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        {
            var monitoring = storage.GetMonitoringApi();
            var servers = monitoring.Servers();
            var data = new Dictionary<string, object>
            {
                ["servers"] = servers.Count,
                ["workers"] = servers.Sum(server => server.WorkersCount),
                ["enqueued"] = monitoring.EnqueuedCount(TrainRunJobQueue),
            };
            return Task.FromResult(servers.Count > 0
                ? HealthCheckResult.Healthy("Hangfire storage is reachable and a server is processing jobs.", data)
                : HealthCheckResult.Unhealthy("No Hangfire server is running: queued runs will not start.", data: data));
        }

        private const string TrainRunJobQueue = Runs.TrainRunJob.Queue;
    }

    private sealed class TorchSharpHealthCheck : IHealthCheck
    {
        public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        {
            var torch = TorchRuntime.Describe();
            var data = new Dictionary<string, object>
            {
                ["torchSharp"] = torch.TorchSharpVersion,
                ["libtorch"] = torch.LibTorchVersion ?? "not loaded",
                ["cuda"] = torch.CudaAvailable,
                ["cudaDevices"] = torch.CudaDevices,
                ["threads"] = torch.Threads,
            };
            return Task.FromResult(torch.Loaded
                ? HealthCheckResult.Healthy(torch.CudaAvailable ? "libtorch loaded; training on CUDA." : "libtorch loaded; training on the CPU.", data)
                : HealthCheckResult.Unhealthy($"libtorch did not load: {torch.Error}", data: data));
        }
    }
}
