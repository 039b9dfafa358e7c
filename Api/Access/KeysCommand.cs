using System.Globalization;
using Experiments.Api.Hosting;
using Experiments.Api.Persistence;
using Experiments.Domain.Access;

namespace Experiments.Api.Access;

/// <summary>
/// <c>dotnet run --project Api -- keys create|list|revoke</c>: manages keys in the service's database directly, so the
/// first admin key needs no running service. A created key is printed alone on the last line of standard output;
/// everything else goes to standard error. Exit codes: 0 done, 1 refused, 2 a usage error.
/// </summary>
public static class KeysCommand
{
    private const string Usage = """
        Usage:
          keys create --name NAME --role viewer|editor|admin [--expires 2027-01-31|30d|12h]
          keys list
          keys revoke --name NAME
        The database is the one the service uses (Experiments:DataFolder).
        """;

    public static bool IsInvoked(string[] args) => args is ["keys", ..];

    public static async Task<int> RunAsync(WebApplicationBuilder builder, string[] args, TextWriter output, TextWriter errors)
    {
        builder.Logging.ClearProviders();
        builder.Logging.AddConsole(console => console.LogToStandardErrorThreshold = LogLevel.Trace).SetMinimumLevel(LogLevel.Warning);
        builder.Services.AddOptions<ExperimentsOptions>().Bind(builder.Configuration.GetSection(ExperimentsOptions.Section));
        builder.Services.AddSingleton(TimeProvider.System);
        builder.AddPersistence();
        builder.Services.AddScoped<ApiKeys>();
        await using var app = builder.Build();
        var command = args.Length > 1 ? args[1] : "";
        var options = ReadOptions(args.Skip(2).ToArray(), out var optionProblem);
        if (optionProblem is not null || command is not ("create" or "list" or "revoke"))
        {
            await errors.WriteLineAsync(optionProblem ?? (command.Length == 0 ? "Say what to do with keys." : $"'{command}' is not a keys command."));
            await errors.WriteLineAsync(Usage);
            return 2;
        }
        await app.Services.PrepareDatabaseAsync();
        await using var scope = app.Services.CreateAsyncScope();
        var keys = scope.ServiceProvider.GetRequiredService<ApiKeys>();
        return command switch
        {
            "create" => await CreateAsync(keys, options, output, errors),
            "list" => await ListAsync(keys, output),
            _ => await RevokeAsync(keys, options, output, errors),
        };
    }

    private static async Task<int> CreateAsync(ApiKeys keys, Dictionary<string, string> options, TextWriter output, TextWriter errors)
    {
        DateTimeOffset? expires = null;
        if (options.TryGetValue("expires", out var expiresText))
        {
            expires = ParseExpiry(expiresText);
            if (expires is null)
            {
                await errors.WriteLineAsync($"--expires: '{expiresText}' is neither a date (2027-01-31, 2027-01-31T18:00:00Z) nor a duration (30d, 12h, 90m).");
                return 2;
            }
        }
        var (created, problems) = await keys.CreateAsync(options.GetValueOrDefault("name"), options.GetValueOrDefault("role"), expires, Caller.CommandLine, CancellationToken.None);
        if (created is null)
        {
            foreach (var (field, messages) in problems.ToDictionary())
            {
                await errors.WriteLineAsync($"--{(field == "expiresAt" ? "expires" : field)}: {string.Join(" ", messages)}");
            }
            return 1;
        }
        var details = created.Details;
        await errors.WriteLineAsync($"Created key '{details.Name}' with role {details.Role.ToText()}"
            + (details.ExpiresAt is { } until ? $", expiring {until:u}" : "") + ". It is shown once, below; store it now.");
        await output.WriteLineAsync(created.Key);
        return 0;
    }

    private static async Task<int> ListAsync(ApiKeys keys, TextWriter output)
    {
        var listed = await keys.ListAsync(CancellationToken.None);
        await output.WriteLineAsync($"{"NAME",-24} {"ROLE",-7} {"STATUS",-8} {"CREATED",-20} {"EXPIRES",-20} LAST USED");
        foreach (var key in listed)
        {
            var status = key.RevokedAt is not null ? "revoked" : key.Active ? "active" : "expired";
            await output.WriteLineAsync($"{key.Name,-24} {key.Role.ToText(),-7} {status,-8} {Time(key.CreatedAt),-20} {Time(key.ExpiresAt),-20} {Time(key.LastUsedAt)}");
        }
        return 0;
    }

    private static async Task<int> RevokeAsync(ApiKeys keys, Dictionary<string, string> options, TextWriter output, TextWriter errors)
    {
        if (!options.TryGetValue("name", out var name))
        {
            await errors.WriteLineAsync("--name: is required: the name of the key to revoke (keys list shows them).");
            return 2;
        }
        if (await keys.RevokeAsync(name, Caller.CommandLine, CancellationToken.None) is null)
        {
            await errors.WriteLineAsync($"No active key is named '{name}'; `keys list` shows them.");
            return 1;
        }
        await output.WriteLineAsync($"Revoked key '{name}'; it stops working on its next request.");
        return 0;
    }

    /// <summary>--name alice --role editor, or --name=alice; each option once.</summary>
    private static Dictionary<string, string> ReadOptions(string[] args, out string? problem)
    {
        var options = new Dictionary<string, string>(StringComparer.Ordinal);
        problem = null;
        for (var index = 0; index < args.Length; index++)
        {
            var argument = args[index];
            if (argument.StartsWith("--", StringComparison.Ordinal) && argument.Contains(':', StringComparison.Ordinal))
            {
                // A setting for the configuration, e.g. --Experiments:DataFolder=/srv/experiments; read by the host, not here.
                if (!argument.Contains('=', StringComparison.Ordinal))
                {
                    index++;
                }
                continue;
            }
            if (!argument.StartsWith("--", StringComparison.Ordinal) || argument.Length == 2)
            {
                problem = $"'{argument}' is not an option (options are --name, --role, --expires).";
                return options;
            }
            var (name, value) = argument.IndexOf('=', StringComparison.Ordinal) is var equals and > 0
                ? (argument[2..equals], argument[(equals + 1)..])
                : (argument[2..], index + 1 < args.Length ? args[++index] : null);
            if (name is not ("name" or "role" or "expires"))
            {
                problem = $"--{name} is not an option of keys (options are --name, --role, --expires).";
                return options;
            }
            if (value is null || !options.TryAdd(name, value))
            {
                problem = value is null ? $"--{name} needs a value." : $"--{name} is given twice.";
                return options;
            }
        }
        return options;
    }

    private static DateTimeOffset? ParseExpiry(string text)
    {
        var now = DateTimeOffset.UtcNow;
        if (text.Length > 1 && int.TryParse(text[..^1], NumberStyles.None, CultureInfo.InvariantCulture, out var count) && count is > 0 and <= 100_000)
        {
            return char.ToLowerInvariant(text[^1]) switch
            {
                'd' => now.AddDays(count),
                'h' => now.AddHours(count),
                'm' => now.AddMinutes(count),
                _ => null,
            };
        }
        return DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at) ? at : null;
    }

    private static string Time(DateTimeOffset? at) => at is { } value ? value.UtcDateTime.ToString("yyyy-MM-dd HH:mm'Z'", CultureInfo.InvariantCulture) : "-";
}
