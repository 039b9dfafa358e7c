using System.Text.Json;
using System.Text.Json.Nodes;
using Experiments.Api.Hosting;
using Experiments.Api.Persistence;
using Experiments.Api.Runs;
using Experiments.Training.Runtime;
using Hangfire;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using Microsoft.OpenApi;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace Experiments.Api.Health;

/// <summary><c>GET /health</c>: the database, Hangfire's storage and servers, and TorchSharp's native library.</summary>
public static class HealthApi
{
    public const string Path = "/health";
    public const string Summary = "Liveness and readiness: database, Hangfire and TorchSharp native load";

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
        app.MapHealthChecks(Path, new HealthCheckOptions { ResponseWriter = WriteAsync })
            .WithTags("Health")
            .AllowAnonymous()
            .WithSummary(Summary);
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

    private sealed class DatabaseHealthCheck(IServiceProvider services, Deployment deployment) : IHealthCheck
    {
        public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        {
            var engine = deployment.Storage == StorageEngine.PostgreSql ? "PostgreSQL" : "SQLite";
            await using var db = PersistenceExtensions.CreateMigrationsContext(services);
            if (!await db.Database.CanConnectAsync(cancellationToken))
            {
                return HealthCheckResult.Unhealthy($"The {engine} database cannot be reached.");
            }
            var pending = (await db.Database.GetPendingMigrationsAsync(cancellationToken)).ToList();
            return pending.Count == 0
                ? HealthCheckResult.Healthy($"{engine} database is up to date.")
                : HealthCheckResult.Unhealthy($"Migrations not applied: {string.Join(", ", pending)}.");
        }
    }

    private sealed class HangfireHealthCheck(JobStorage storage, Deployment deployment) : IHealthCheck
    {
        public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        {
            var monitoring = storage.GetMonitoringApi();
            var servers = monitoring.Servers();
            var data = new Dictionary<string, object>
            {
                ["servers"] = servers.Count,
                ["workers"] = servers.Sum(server => server.WorkersCount),
                ["enqueued"] = TrainRunJob.Queues.Sum(queue => monitoring.EnqueuedCount(queue)),
            };
            if (servers.Count > 0)
            {
                return Task.FromResult(HealthCheckResult.Healthy("Hangfire storage is reachable and a server is processing jobs.", data));
            }
            // A web node trains nothing itself: it is ready without workers, and says that queued runs wait for one.
            return Task.FromResult(deployment.Role == NodeRole.Web
                ? HealthCheckResult.Degraded("No worker is running: queued runs wait until one starts.", data: data)
                : HealthCheckResult.Unhealthy("No Hangfire server is running: queued runs will not start.", data: data));
        }
    }

    private sealed class TorchSharpHealthCheck(IOptions<ExperimentsOptions> options) : IHealthCheck
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
                // What a run that names no threads gets, not libtorch's default: the two differ (TrainingThread.DefaultThreads).
                ["threads"] = options.Value.TorchThreadsPerRun,
            };
            return Task.FromResult(torch.Loaded
                ? HealthCheckResult.Healthy(torch.CudaAvailable ? "libtorch loaded; training on CUDA." : "libtorch loaded; training on the CPU.", data)
                : HealthCheckResult.Unhealthy($"libtorch did not load: {torch.Error}", data: data));
        }
    }
}

/// <summary>
/// Adds <c>GET /health</c> to the OpenAPI document (health-check endpoints are not described by the API explorer),
/// with the answer <see cref="HealthApi"/> writes and the security its endpoint's metadata asks for.
/// </summary>
internal sealed class HealthDocumentFilter(EndpointDataSource endpoints) : IDocumentFilter
{
    public void Apply(OpenApiDocument document, DocumentFilterContext context)
    {
        var endpoint = endpoints.Endpoints.OfType<RouteEndpoint>().FirstOrDefault(e => e.RoutePattern.RawText == HealthApi.Path);
        if (endpoint is null)
        {
            return;
        }
        var status = new OpenApiSchema
        {
            Type = JsonSchemaType.String,
            Enum = Enum.GetNames<HealthStatus>().Select(name => (JsonNode)JsonValue.Create(name)).ToList(),
        };
        var check = new OpenApiSchema
        {
            Type = JsonSchemaType.Object,
            Required = new SortedSet<string>(StringComparer.Ordinal) { "status", "description", "data" },
            Properties = new Dictionary<string, IOpenApiSchema>
            {
                ["status"] = status,
                ["description"] = new OpenApiSchema { Type = JsonSchemaType.String | JsonSchemaType.Null },
                ["data"] = new OpenApiSchema { Type = JsonSchemaType.Object, Description = "What the check read, such as the libtorch version or the Hangfire servers." },
            },
        };
        var report = context.SchemaRepository.AddDefinition("HealthReport", new OpenApiSchema
        {
            Type = JsonSchemaType.Object,
            Required = new SortedSet<string>(StringComparer.Ordinal) { "status", "checks" },
            Properties = new Dictionary<string, IOpenApiSchema>
            {
                ["status"] = status,
                ["checks"] = new OpenApiSchema { Type = JsonSchemaType.Object, AdditionalProperties = check, Description = "One entry per check: database, hangfire, torchSharp." },
            },
        });
        OpenApiResponse Answer(string description) => new()
        {
            Description = description,
            Content = new Dictionary<string, OpenApiMediaType> { ["application/json"] = new() { Schema = report } },
        };
        var operation = new OpenApiOperation
        {
            OperationId = "getHealth",
            Summary = HealthApi.Summary,
            Tags = new HashSet<OpenApiTagReference> { new("Health", document) },
            Responses = new OpenApiResponses
            {
                ["200"] = Answer("Every check is healthy."),
                ["503"] = Answer("A check is unhealthy: its description says which and why."),
            },
        };
        OpenApiOperationFilter.DescribeSecurity(operation, endpoint.Metadata, context.SchemaGenerator, context.SchemaRepository);
        document.Paths[HealthApi.Path] = new OpenApiPathItem
        {
            Operations = new Dictionary<HttpMethod, OpenApiOperation> { [HttpMethod.Get] = operation },
        };
    }
}
