using Experiments.Api.Hosting;
using Experiments.Api.Workers;
using Experiments.Training.Runtime;
using Hangfire;
using Hangfire.PostgreSql;
using Hangfire.Storage.SQLite;

namespace Experiments.Api.Runs;

public static class JobsExtensions
{
    /// <summary>
    /// Hangfire's storage (its own SQLite file in the data folder, or schema <c>hangfire</c> of the PostgreSQL database) and,
    /// in a process that trains, a Hangfire server on this process's queues with its worker heartbeat.
    /// </summary>
    public static IHostApplicationBuilder AddJobs(this IHostApplicationBuilder builder, Deployment deployment)
    {
        var settings = builder.Configuration.GetSection(ExperimentsOptions.Section).Get<ExperimentsOptions>() ?? new ExperimentsOptions();
        Directory.CreateDirectory(settings.DataFolderPath);
        builder.Services.AddHangfire(configuration =>
        {
            configuration
                .SetDataCompatibilityLevel(CompatibilityLevel.Version_180)
                .UseSimpleAssemblyNameTypeSerializer()
                .UseRecommendedSerializerSettings();
            if (deployment.Storage == StorageEngine.PostgreSql)
            {
                configuration.UsePostgreSqlStorage(connection => connection.UseNpgsqlConnection(deployment.PostgreSqlConnectionString), new PostgreSqlStorageOptions
                {
                    SchemaName = "hangfire",
                    QueuePollInterval = settings.QueuePollInterval,
                    // A job is kept invisible to other servers while its server keeps saying it is working on it, so a
                    // run longer than the invisibility timeout is never handed out twice; a dead server's job comes back
                    // after it (RunRecovery resumes the run sooner, after one run lease).
                    UseSlidingInvisibilityTimeout = true,
                    InvisibilityTimeout = TimeSpan.FromMinutes(5),
                    // Start-up migrations take turns on a lock (PersistenceExtensions.PrepareDatabaseAsync).
                    PrepareSchemaIfNecessary = true,
                });
            }
            else
            {
                configuration.UseSQLiteStorage(settings.HangfireDatabasePath, new SQLiteStorageOptions
                {
                    // The default 15 s poll would leave a new run waiting; a poll of this file costs microseconds.
                    QueuePollInterval = settings.QueuePollInterval,
                });
            }
        });
        builder.Services.AddSingleton<WorkerIdentity>();
        builder.Services.AddSingleton<RunCancellations>();
        // Any node may find a run whose worker died; a second delivery of it does nothing (TrainRunJob claims it first).
        builder.Services.AddHostedService<RunRecovery>();
        if (!deployment.Role.Trains())
        {
            return builder;
        }
        var queues = QueuesOf(settings, deployment.Role);
        builder.Services.AddHangfireServer((services, server) =>
        {
            var worker = services.GetRequiredService<WorkerIdentity>();
            server.Queues = queues;
            server.WorkerCount = Math.Max(1, settings.MaxConcurrentRuns);
            server.ServerName = worker.Id;
        });
        builder.Services.AddScoped<TrainRunJob>();
        builder.Services.AddSingleton(new WorkerQueues(queues));
        builder.Services.AddHostedService<WorkerHeartbeat>();
        return builder;
    }

    /// <summary>
    /// The queues a training process serves, in order: the configured ones, else <c>gpu</c> (when it has a GPU, and always
    /// in a lone service, where a run asking for a missing GPU then fails saying so) before <c>training</c>.
    /// </summary>
    private static string[] QueuesOf(ExperimentsOptions settings, NodeRole role)
    {
        if (settings.Queues.Length > 0)
        {
            return [.. settings.Queues.Distinct()];
        }
        return role == NodeRole.All || TorchRuntime.Describe().CudaAvailable ? [.. TrainRunJob.Queues] : [TrainRunJob.Queue];
    }
}

/// <summary>The job queues this process's Hangfire server takes runs from.</summary>
public sealed record WorkerQueues(string[] Names);
