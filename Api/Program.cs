using Experiments.Api;
using Experiments.Api.Access;
using Experiments.Api.Datasets;
using Experiments.Api.Health;
using Experiments.Api.Hosting;
using Experiments.Api.Models;
using Experiments.Api.Persistence;
using Experiments.Api.Runs;
using Experiments.Api.Security;
using Experiments.Api.Sweeps;
using Experiments.Api.Workers;
using Experiments.Domain.Access;
using Experiments.Web;
using Hangfire;

var builder = WebApplication.CreateBuilder(args);
// appsettings.json sits at the repository root and is copied next to the binaries; read it from there
// whatever the working directory (environment variables and the command line still override it).
builder.Configuration.Sources.Insert(0, new Microsoft.Extensions.Configuration.Json.JsonConfigurationSource
{
    Path = Path.Combine(AppContext.BaseDirectory, "appsettings.json"),
    Optional = true,
    FileProvider = new Microsoft.Extensions.FileProviders.PhysicalFileProvider(AppContext.BaseDirectory),
});
// The engines and role (docs/deploy.md); a wrong setting stops here, naming it.
Deployment deployment;
try
{
    deployment = Deployment.Read(builder.Configuration);
}
catch (InvalidOperationException invalid)
{
    await Console.Error.WriteLineAsync($"Refusing to start: {invalid.Message}");
    return 2;
}
builder.Services.AddSingleton(deployment);
if (KeysCommand.IsInvoked(args))
{
    return await KeysCommand.RunAsync(builder, args, Console.Out, Console.Error);
}
var servesWeb = deployment.Role.ServesWeb();
if (servesWeb)
{
    // Blazor's scripts are static web assets of the referenced projects: serve them from the build output in
    // every environment, not only in Development (a published app has them in wwwroot and ignores this).
    builder.UseStaticWebAssetsOfTheBuild();
}

builder.AddApi();
builder.AddHttpHardening();
builder.AddPersistence();
builder.AddAccessControl();
builder.AddJobs(deployment);
builder.AddLiveEvents(deployment);
builder.AddHealth();
if (servesWeb)
{
    builder.AddDashboard();
}

var app = builder.Build();
await app.Services.PrepareDatabaseAsync();
app.Services.ReportDeployment();

// First, so that a request it refuses reaches nothing below (the order inside: Api/Security/HttpHardening.cs).
app.UseHttpHardening();
app.UseExceptionHandler();
app.UseStatusCodePages();
app.UseHeadAsGet();
app.UseRouting();
if (servesWeb)
{
    app.UseSwagger();
    app.UseSwaggerUI();
}
app.UseAccessControl();
if (servesWeb)
{
    app.UseAntiforgery();
}

app.MapHealth();
if (servesWeb)
{
    app.MapAccess();
    app.MapSignIn();
    app.MapDatasets();
    app.MapModels();
    app.MapRuns();
    app.MapSweeps();
    app.MapWorkers();
    app.MapHub<RunsHub>(RunsHub.Path).RequireAuthorization(Policies.Viewer);
    // Admins only, decided by the endpoint's policy: Hangfire's own filter (local requests only) is replaced by it.
    app.MapHangfireDashboard("/hangfire", new DashboardOptions { Authorization = [], AsyncAuthorization = [] }).RequireAuthorization(Policies.Admin);
    app.MapDashboard();
}

await app.StartAsync();
// A worker serves /health alone, which anyone may read: there is nothing to refuse it for.
if (servesWeb && !await app.MayServeAsync())
{
    await app.StopAsync();
    return 3;
}
await app.WaitForShutdownAsync();
return 0;

/// <summary>The entry point, visible to WebApplicationFactory in the tests.</summary>
public partial class Program;
