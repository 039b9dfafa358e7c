using Experiments.Domain.Access;

namespace Experiments.Api.Access;

/// <summary>
/// A named API key. Only the SHA-256 of the key is stored: a key is 256 random bits, so a fast hash cannot be
/// searched backwards, and the key is shown once, when it is created. A revoked key stays, so that its name and
/// history remain in lists and the audit log.
/// </summary>
public sealed class ApiKey
{
    private ApiKey()
    {
    }

    public ApiKey(Guid id, string name, Role role, byte[] hash, DateTimeOffset createdAt, DateTimeOffset? expiresAt, string? createdBy)
    {
        Id = id;
        Name = name;
        Role = role;
        Hash = hash;
        CreatedAt = createdAt;
        ExpiresAt = expiresAt;
        CreatedBy = createdBy;
    }

    public Guid Id { get; private set; }

    public string Name { get; private set; } = "";

    public Role Role { get; private set; }

    public byte[] Hash { get; private set; } = [];

    public DateTimeOffset CreatedAt { get; private set; }

    public string? CreatedBy { get; private set; }

    public DateTimeOffset? ExpiresAt { get; private set; }

    public DateTimeOffset? LastUsedAt { get; private set; }

    public DateTimeOffset? RevokedAt { get; private set; }

    public bool IsValidAt(DateTimeOffset now) => RevokedAt is null && (ExpiresAt is not { } expires || expires > now);

    /// <summary>Why the key no longer works at <paramref name="now"/>, or null when it does.</summary>
    public string? WhyInvalidAt(DateTimeOffset now) =>
        RevokedAt is { } revoked ? $"the key '{Name}' was revoked at {revoked:u}"
        : ExpiresAt is { } expires && expires <= now ? $"the key '{Name}' expired at {expires:u}"
        : null;

    public void Revoke(DateTimeOffset now) => RevokedAt ??= now;

    /// <summary>Whether <see cref="LastUsedAt"/> should be written now: at most once a minute, so reads stay reads.</summary>
    public bool MarkUsed(DateTimeOffset now)
    {
        if (LastUsedAt is { } last && now - last < TimeSpan.FromMinutes(1))
        {
            return false;
        }
        LastUsedAt = now;
        return true;
    }
}

/// <summary>A key as lists show it: never the key itself.</summary>
public sealed record ApiKeyView(
    string Name,
    Role Role,
    DateTimeOffset CreatedAt,
    string? CreatedBy,
    DateTimeOffset? ExpiresAt,
    DateTimeOffset? LastUsedAt,
    DateTimeOffset? RevokedAt,
    bool Active)
{
    public static ApiKeyView From(ApiKey key, DateTimeOffset now) =>
        new(key.Name, key.Role, key.CreatedAt, key.CreatedBy, key.ExpiresAt, key.LastUsedAt, key.RevokedAt, key.IsValidAt(now));
}

/// <summary>A key just created: <see cref="Key"/> is shown this once and never again.</summary>
public sealed record CreatedApiKey(ApiKeyView Details, string Key);

/// <summary>The body of <c>POST /api/keys</c>.</summary>
public sealed record CreateApiKeyRequest(string? Name, string? Role, DateTimeOffset? ExpiresAt = null);
