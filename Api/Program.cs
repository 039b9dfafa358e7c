using Experiments.Api;
using Experiments.Api.Datasets;
using Experiments.Api.Health;
using Experiments.Api.Hosting;
using Experiments.Api.Models;
using Experiments.Api.Persistence;
using Experiments.Api.Runs;
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
// Blazor's scripts are static web assets of the referenced projects: serve them from the build output in
// every environment, not only in Development (a published app has them in wwwroot and ignores this).
builder.UseStaticWebAssetsOfTheBuild();

builder.AddApi();
builder.AddPersistence();
builder.AddJobs();
builder.AddHealth();
builder.AddDashboard();

var app = builder.Build();
await app.Services.PrepareDatabaseAsync();

app.UseExceptionHandler();
app.UseStatusCodePages();
app.UseHeadAsGet();
app.UseRouting();
app.UseSwagger();
app.UseSwaggerUI();
app.UseAntiforgery();

app.MapHealth();
app.MapDatasets();
app.MapModels();
app.MapRuns();
app.MapHub<RunsHub>(RunsHub.Path);
app.MapHangfireDashboard("/hangfire");
app.MapDashboard();

app.Run();

/// <summary>The entry point, visible to WebApplicationFactory in the tests.</summary>
public partial class Program;
