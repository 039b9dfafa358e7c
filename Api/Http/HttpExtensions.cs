using System.Text.Json;
using Experiments.Api.Datasets;
using Experiments.Api.Health;
using Experiments.Api.Hosting;
using Experiments.Api.Models;
using Experiments.Api.Runs;
using Experiments.Api.Sweeps;
using Experiments.Api.Workers;
using Experiments.Domain;
using Experiments.Domain.Datasets;
using Experiments.Domain.Models;
using Experiments.Domain.Runs;
using Experiments.Domain.Sweeps;
using Experiments.Domain.Workers;
using Microsoft.OpenApi;

namespace Experiments.Api;

public static class HttpExtensions
{
    /// <summary>JSON conventions, problem details for every error, OpenAPI, and the services the endpoints use.</summary>
    public static IHostApplicationBuilder AddApi(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<ExperimentsOptions>().Bind(builder.Configuration.GetSection(ExperimentsOptions.Section));
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<DiagnosticsGate>();
        // Request bodies are read strictly (unknown members, wrong-case names and enum numbers refused); answers are
        // written with the same conventions as Configure.
        builder.Services.ConfigureHttpJsonOptions(options => JsonConventions.ApplyToRequests(options.SerializerOptions));
        builder.Services.AddProblemDetails();
        builder.Services.AddExceptionHandler<BadRequestExceptionHandler>();
        // Let unreadable requests reach BadRequestExceptionHandler in every environment, so the answer names the field.
        builder.Services.Configure<RouteHandlerOptions>(options => options.ThrowOnBadRequest = true);
        builder.Services.AddEndpointsApiExplorer();
        builder.Services.AddSwaggerGen(swagger =>
        {
            swagger.SwaggerDoc("v1", new OpenApiInfo
            {
                Title = "Experiments",
                Version = "v1",
                Description = "Import datasets, define models, train and watch runs. Errors are RFC 7807 problem details naming the field to fix.",
            });
            swagger.SupportNonNullableReferenceTypes();
            // A member that refers to another schema is written allOf: [$ref], so that it can say nullable (OpenAPI 3.0
            // ignores whatever stands beside a $ref).
            swagger.UseAllOfToExtendReferenceSchemas();
            swagger.SchemaFilter<ComponentSpecSchemaFilter>();
            swagger.SchemaFilter<OpenApiSchemaFilter>();
            swagger.SchemaFilter<RequestExampleSchemaFilter>();
            swagger.OperationFilter<OpenApiOperationFilter>();
            swagger.OperationAsyncFilter<RunExampleOperationFilter>();
            swagger.DocumentFilter<ApiDocumentFilter>();
            swagger.DocumentFilter<HealthDocumentFilter>();
            // API keys (issue 13): either header; operations that allow anonymous callers say security: [].
            swagger.AddSecurityDefinition(ApiDocumentFilter.BearerScheme, new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.Http,
                Scheme = "bearer",
                Description = "An API key as a bearer token: `Authorization: Bearer <key>`.",
            });
            swagger.AddSecurityDefinition(ApiDocumentFilter.ApiKeyScheme, new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.ApiKey,
                In = ParameterLocation.Header,
                Name = ApiDocumentFilter.ApiKeyHeader,
                Description = "An API key in its own header: `X-Api-Key: <key>`.",
            });
            swagger.AddSecurityRequirement(document => new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(ApiDocumentFilter.BearerScheme, document)] = [] });
            swagger.AddSecurityRequirement(document => new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(ApiDocumentFilter.ApiKeyScheme, document)] = [] });
        });
        // The document names the address it was served from, so that "Try it out" and generated clients call this service.
        builder.Services.Configure<Swashbuckle.AspNetCore.Swagger.SwaggerOptions>(options => options.PreSerializeFilters.Add((document, request) =>
            document.Servers = [new OpenApiServer { Url = $"{request.Scheme}://{request.Host}{request.PathBase}" }]));
        builder.Services.AddScoped<DatasetImporter>();
        builder.Services.AddScoped<IRunQueries, RunQueries>();
        builder.Services.AddScoped<IDatasetQueries, DatasetQueries>();
        builder.Services.AddScoped<IModelQueries, ModelQueries>();
        builder.Services.AddScoped<IWorkerQueries, WorkerQueries>();
        builder.Services.AddScoped<ISweepQueries, SweepQueries>();
        builder.Services.AddSingleton<SweepController>();
        // Any node may advance a sweep; trial N exists at most once whoever starts it (SweepController).
        builder.Services.AddHostedService<SweepSupervisor>();
        builder.Services.AddSingleton<HeavyRequests>();
        return builder;
    }

    /// <summary>The conventions for reading and writing the API's answers (clients, tests, the hub protocol); lenient on reading.</summary>
    /// <summary>
    /// Answers HEAD on every GET route as GET would, without the body (RFC 9110 §9.3.2): minimal APIs and Blazor map GET
    /// only. Comes before routing, which then matches the GET endpoint.
    /// </summary>
    public static IApplicationBuilder UseHeadAsGet(this IApplicationBuilder app) => app.Use(async (context, next) =>
    {
        if (!HttpMethods.IsHead(context.Request.Method))
        {
            await next(context);
            return;
        }
        var body = context.Response.Body;
        context.Request.Method = HttpMethods.Get;
        context.Response.Body = Stream.Null;
        try
        {
            await next(context);
        }
        finally
        {
            context.Response.Body = body;
            context.Request.Method = HttpMethods.Head;
        }
    });

    public static void Configure(JsonSerializerOptions options) => JsonConventions.Apply(options);

    /// <summary>Any method but GET, HEAD, OPTIONS and TRACE (RFC 9110's safe methods): what the Origin check and the per-key limit count.</summary>
    public static bool ChangesState(string method) =>
        !(HttpMethods.IsGet(method) || HttpMethods.IsHead(method) || HttpMethods.IsOptions(method) || HttpMethods.IsTrace(method));

    /// <summary>A loopback address, IPv4 seen through a dual-stack socket (::ffff:127.0.0.1) included.</summary>
    public static bool IsLoopback(System.Net.IPAddress address) =>
        System.Net.IPAddress.IsLoopback(address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address);
}
