using System.Security.Claims;

namespace Experiments.Domain.Access;

/// <summary>
/// Who is calling, as the checks need it: the key's name (null on a service without keys, whose loopback callers
/// are admins) and its role.
/// </summary>
public sealed record Caller(string? Name, Role Role, bool OpenAccess = false)
{
    /// <summary>A loopback caller of a service that has no keys.</summary>
    public static Caller Open { get; } = new(null, Role.Admin, OpenAccess: true);

    /// <summary>Before the caller is known (a page's first render): may read, nothing more.</summary>
    public static Caller Unknown { get; } = new(null, Role.Viewer);

    /// <summary>Someone at this machine using the <c>keys</c> command (as the operating system's user).</summary>
    public static Caller CommandLine { get; } = new($"cli:{Environment.UserName}", Role.Admin);

    /// <summary>The caller a principal made by the access checks stands for; a principal without those claims is a viewer with no name.</summary>
    public static Caller Of(ClaimsPrincipal user)
    {
        if (user.HasClaim(claim => claim.Type == AccessClaims.OpenAccess))
        {
            return Open;
        }
        var role = AccessClaims.TryParse(user.FindFirst(AccessClaims.Role)?.Value, out var parsed) ? parsed : Role.Viewer;
        return new Caller(user.FindFirst(AccessClaims.Name)?.Value, role);
    }

    public bool Has(Role role) => Role >= role;

    /// <summary>Whether the caller may cancel or delete what <paramref name="createdBy"/> created: an admin anything, an editor their own.</summary>
    public bool MayChange(string? createdBy) =>
        Role == Role.Admin || (Role == Role.Editor && Name is not null && string.Equals(Name, createdBy, StringComparison.Ordinal));

    /// <summary>For messages: "the key 'alice' (editor)".</summary>
    public string Describe() => OpenAccess ? "an open-access caller" : $"the key '{Name}' ({Role.ToText()})";
}

/// <summary>The authorization policies every endpoint declares one of; a policy requires at least its role.</summary>
public static class Policies
{
    public const string Viewer = "viewer";
    public const string Editor = "editor";
    public const string Admin = "admin";

    public static Role RoleOf(string policy) => policy switch
    {
        Viewer => Role.Viewer,
        Editor => Role.Editor,
        Admin => Role.Admin,
        _ => throw new ArgumentOutOfRangeException(nameof(policy), policy, "not a policy of Experiments"),
    };
}
