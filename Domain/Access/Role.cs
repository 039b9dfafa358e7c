namespace Experiments.Domain.Access;

/// <summary>What a key may do; each role may do everything the roles before it may.</summary>
public enum Role
{
    /// <summary>Reads everything: datasets, models, runs, metrics, logs, weights; evaluates and predicts.</summary>
    Viewer,

    /// <summary>Also creates datasets, models and runs, and cancels and deletes what it created.</summary>
    Editor,

    /// <summary>Everything: changes anyone's datasets and runs, manages keys, reads the audit log and the job dashboard.</summary>
    Admin,
}

/// <summary>The claims a signed-in caller carries (API key, dashboard cookie, hub connection).</summary>
public static class AccessClaims
{
    /// <summary>The key's name: the person or tool that owns it; recorded as <c>createdBy</c>.</summary>
    public const string Name = "experiments:name";

    /// <summary>The key's <see cref="Access.Role"/>, lower case.</summary>
    public const string Role = "experiments:role";

    /// <summary>The key's id, to check on each request that it is still valid.</summary>
    public const string KeyId = "experiments:key-id";

    /// <summary>
    /// The key itself, held only inside the dashboard's encrypted cookie, so that the dashboard's calls to the REST API
    /// act as the person who signed in.
    /// </summary>
    public const string Key = "experiments:key";

    /// <summary>Set on the caller of a service that has no keys and answers loopback callers as admins.</summary>
    public const string OpenAccess = "experiments:open-access";

    public static string ToText(this Role role) => role.ToString().ToLowerInvariant();

    public static bool TryParse(string? text, out Role role)
    {
        role = default;
        return !string.IsNullOrWhiteSpace(text) && !char.IsDigit(text[0]) && Enum.TryParse(text, ignoreCase: true, out role) && Enum.IsDefined(role);
    }
}
