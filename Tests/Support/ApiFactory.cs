using System.Net.Http.Json;
using System.Text.Json;
using Experiments.Api;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;

namespace Experiments.Tests.Support;

/// <summary>
/// The real host on a temporary data folder: a real SQLite file with real migrations, a real Hangfire
/// server on its own SQLite file, real TorchSharp. Run in Production so what users get is what is tested.
/// </summary>
public sealed class ApiFactory : WebApplicationFactory<Program>
{
    public ApiFactory()
    {
        DataFolder = Path.Combine(Path.GetTempPath(), "experiments-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(DataFolder);
    }

    public string DataFolder { get; }

    public static JsonSerializerOptions Json { get; } = CreateJsonOptions();

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Production");
        builder.UseSetting("Experiments:DataFolder", DataFolder);
        builder.UseSetting("Experiments:QueuePollInterval", "00:00:00.100");
    }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        if (disposing)
        {
            try
            {
                Directory.Delete(DataFolder, recursive: true);
            }
            catch (IOException)
            {
                // SQLite may still hold a file for a moment; the temp folder is cleaned by the OS.
            }
        }
    }

    private static JsonSerializerOptions CreateJsonOptions()
    {
        var options = new JsonSerializerOptions(JsonSerializerDefaults.Web);
        HttpExtensions.Configure(options);
        return options;
    }
}

public static class HttpClientJsonExtensions
{
    public static async Task<T> ReadAsAsync<T>(this HttpResponseMessage response) =>
        (await response.Content.ReadFromJsonAsync<T>(ApiFactory.Json))!;
}
