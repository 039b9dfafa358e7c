using Experiments.Api.Hosting;
using Hangfire;
using Hangfire.Storage.SQLite;

namespace Experiments.Api.Runs;

public static class JobsExtensions
{
    /// <summary>Hangfire on its own SQLite file in the data folder, with a server inside this host.</summary>
    public static IHostApplicationBuilder AddJobs(this IHostApplicationBuilder builder)
    {
        var settings = builder.Configuration.GetSection(ExperimentsOptions.Section).Get<ExperimentsOptions>() ?? new ExperimentsOptions();
        Directory.CreateDirectory(settings.DataFolderPath);
        builder.Services.AddHangfire(configuration => configuration
            .SetDataCompatibilityLevel(CompatibilityLevel.Version_180)
            .UseSimpleAssemblyNameTypeSerializer()
            .UseRecommendedSerializerSettings()
            .UseSQLiteStorage(settings.HangfireDatabasePath, new SQLiteStorageOptions
            {
                // The default 15 s poll would leave a new run waiting; a poll of this file costs microseconds.
                QueuePollInterval = settings.QueuePollInterval,
            }));
        builder.Services.AddHangfireServer(server =>
        {
            server.Queues = [TrainRunJob.Queue];
            server.WorkerCount = Math.Max(1, settings.MaxConcurrentRuns);
            server.ServerName = $"{Environment.MachineName}:{Environment.ProcessId}";
        });
        builder.Services.AddScoped<TrainRunJob>();
        builder.Services.AddSingleton<WorkerIdentity>();
        builder.Services.AddSingleton<RunCancellations>();
        builder.Services.AddHostedService<RunRecovery>();
        return builder;
    }
}
