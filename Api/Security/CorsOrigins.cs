namespace Experiments.Api.Security;

/// <summary><c>Experiments:Cors</c>: other sites whose pages may call the REST API. Empty by default: no CORS at all.</summary>
public sealed class CorsSettings
{
    public const string Section = "Experiments:Cors";

    /// <summary>Origins as a browser writes them, such as <c>https://notebooks.example.com</c> or <c>http://localhost:8888</c>.</summary>
    public List<string> AllowedOrigins { get; set; } = [];
}

/// <summary>
/// The origins of <see cref="CorsSettings"/>, parsed. They get CORS answers from <c>/api</c> (preflight included) and pass
/// the <see cref="OriginCheckMiddleware">Origin check</see>; every other site's page is refused anything but reading.
/// </summary>
public sealed class CorsOrigins
{
    public const string PolicyName = "configured-origins";

    /// <summary>The paths that answer CORS requests from the configured origins: the REST API.</summary>
    public const string ApiPath = "/api";

    private readonly HashSet<string> _origins;

    private CorsOrigins(HashSet<string> origins) => _origins = origins;

    /// <summary>Each origin as <c>scheme://host[:port]</c>, lower case, the default port left out: as browsers send them.</summary>
    public IReadOnlyCollection<string> Origins => _origins;

    public bool AnyConfigured => _origins.Count > 0;

    /// <summary>Parses the settings; a value that is not an origin stops the start-up with a message naming it.</summary>
    public static CorsOrigins From(CorsSettings settings) => new(settings.AllowedOrigins
        .Select((value, index) => Parse(value.Trim(), $"{CorsSettings.Section}:{nameof(settings.AllowedOrigins)}:{index}"))
        .ToHashSet(StringComparer.Ordinal));

    public bool Allows(string origin) => Normalize(origin) is { } normalized && _origins.Contains(normalized);

    /// <summary>An Origin header as <c>scheme://host[:port]</c> (lower case, no default port), or null when it is not an http(s) origin (<c>null</c>, say).</summary>
    public static string? Normalize(string origin) =>
        Uri.TryCreate(origin, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https"
            ? uri.GetComponents(UriComponents.SchemeAndServer, UriFormat.UriEscaped).ToLowerInvariant()
            : null;

    private static string Parse(string value, string setting)
    {
        if (value == "*")
        {
            throw new InvalidOperationException($"{setting} is '*': list each site that may call the API instead (https://notebooks.example.com); '*' would let every web page drive this service.");
        }
        var valid = Uri.TryCreate(value, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https"
            && uri.UserInfo.Length == 0 && uri.AbsolutePath == "/" && uri.Query.Length == 0 && uri.Fragment.Length == 0;
        return valid
            ? Normalize(value)!
            : throw new InvalidOperationException($"{setting} '{value}' is not an origin: write the scheme, host and port only, such as https://notebooks.example.com or http://localhost:8888.");
    }
}
