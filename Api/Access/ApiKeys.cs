using System.Security.Cryptography;
using System.Text;
using Experiments.Api.Persistence;
using Experiments.Domain.Access;
using Experiments.Domain.Validation;
using Microsoft.EntityFrameworkCore;

namespace Experiments.Api.Access;

/// <summary>
/// Creates, lists, revokes and checks API keys; used by the REST API, the dashboard's sign-in and the <c>keys</c>
/// command. Every change is written with its audit entry in one transaction.
/// </summary>
public sealed class ApiKeys(ExperimentsDbContext db, TimeProvider time)
{
    /// <summary>Every key starts so, which lets secret scanners and people recognise one.</summary>
    public const string Prefix = "exp_";

    public const int MaxNameLength = 100;

    private const int SecretBytes = 32;

    /// <summary>A key's length: the prefix and 32 random bytes in unpadded base64url.</summary>
    public static readonly int KeyLength = Prefix.Length + Base64UrlLength(SecretBytes);

    /// <summary>
    /// A new key named <paramref name="name"/> with <paramref name="role"/>, or the errors that refuse it (a name in use
    /// by an active key, an unknown role, an expiry in the past). The answer holds the key itself, which is never stored.
    /// </summary>
    public async Task<(CreatedApiKey? Created, ValidationErrors Errors)> CreateAsync(
        string? name, string? role, DateTimeOffset? expiresAt, Caller creator, CancellationToken cancellationToken)
    {
        var errors = new ValidationErrors();
        var now = time.GetUtcNow();
        var trimmed = name?.Trim();
        if (string.IsNullOrEmpty(trimmed) || trimmed.Length > MaxNameLength)
        {
            errors.Add("name", $"is required: 1 to {MaxNameLength} characters naming the person or tool that holds the key, e.g. \"alice\".");
        }
        else if (Names.Problem(trimmed) is { } invisible)
        {
            errors.Add("name", invisible);
        }
        if (!AccessClaims.TryParse(role, out var parsedRole))
        {
            errors.Add("role", $"must be one of viewer, editor, admin; got '{role}'.");
        }
        if (expiresAt is { } expires && expires <= now)
        {
            errors.Add("expiresAt", $"must be in the future; got {expires:u}, and it is now {now:u}.");
        }
        if (!errors.IsEmpty)
        {
            return (null, errors);
        }

        var key = Prefix + Base64Url(RandomNumberGenerator.GetBytes(SecretBytes));
        var created = new ApiKey(Guid.NewGuid(), trimmed!, parsedRole, Hash(key), now, expiresAt, creator.Name);
        // Two creations of one name cannot both find it free.
        await using var transaction = await db.BeginSerializedWriteAsync(cancellationToken);
        if (await db.ApiKeys.AnyAsync(existing => existing.Name == created.Name && existing.RevokedAt == null
                && (existing.ExpiresAt == null || existing.ExpiresAt > now), cancellationToken))
        {
            errors.Add("name", $"an active key is already named '{created.Name}'; revoke it first (keys revoke --name {created.Name}) or choose another name.");
            return (null, errors);
        }
        db.ApiKeys.Add(created);
        db.Audit(creator, AuditActions.KeyCreate, $"keys/{created.Name}", $"role {parsedRole.ToText()}"
            + (expiresAt is { } until ? $", expires {until:u}" : ""), now);
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return (new CreatedApiKey(ApiKeyView.From(created, now), key), errors);
    }

    /// <summary>Every key, active ones first, then by name; never the keys themselves.</summary>
    public async Task<List<ApiKeyView>> ListAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var keys = await db.ApiKeys.AsNoTracking().ToListAsync(cancellationToken);
        return [.. keys.Select(key => ApiKeyView.From(key, now)).OrderByDescending(key => key.Active).ThenBy(key => key.Name, StringComparer.Ordinal)
            .ThenByDescending(key => key.CreatedAt)];
    }

    /// <summary>Revokes the active key named <paramref name="name"/>; null when there is none. It stops working at once.</summary>
    public async Task<ApiKeyView?> RevokeAsync(string name, Caller revoker, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        await using var transaction = await db.BeginSerializedWriteAsync(cancellationToken);
        var active = await db.ApiKeys.Where(key => key.Name == name && key.RevokedAt == null).ToListAsync(cancellationToken);
        if (active.Count == 0)
        {
            return null;
        }
        foreach (var key in active)
        {
            key.Revoke(now);
        }
        db.Audit(revoker, AuditActions.KeyRevoke, $"keys/{name}", null, now);
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return ApiKeyView.From(active[0], now);
    }

    /// <summary>The key <paramref name="presented"/> is, when it is valid now; else null and why not.</summary>
    public async Task<(ApiKey? Key, string? Problem)> CheckAsync(string presented, CancellationToken cancellationToken)
    {
        if (presented.Length != KeyLength || !presented.StartsWith(Prefix, StringComparison.Ordinal))
        {
            return (null, $"this is not an Experiments key (they are {KeyLength} characters and start with '{Prefix}'); check that it was copied whole.");
        }
        var hash = Hash(presented);
        var key = await db.ApiKeys.FirstOrDefaultAsync(stored => stored.Hash == hash, cancellationToken);
        // The lookup is by an index on the hash; the final comparison does not stop at the first differing byte.
        if (key is null || !CryptographicOperations.FixedTimeEquals(key.Hash, hash))
        {
            return (null, "no key matches; it may have been mistyped, or belong to another Experiments service.");
        }
        var now = time.GetUtcNow();
        if (key.WhyInvalidAt(now) is { } invalid)
        {
            return (null, $"{invalid}; ask an admin for a new one.");
        }
        if (key.MarkUsed(now))
        {
            try
            {
                await db.SaveChangesAsync(cancellationToken);
            }
            catch (DbUpdateException)
            {
                // Last-used is a courtesy; a busy database must not refuse a valid key.
            }
        }
        return (key, null);
    }

    /// <summary>Whether the key with <paramref name="id"/> is still valid (the dashboard's cookie is checked so).</summary>
    public async Task<bool> IsValidAsync(Guid id, CancellationToken cancellationToken)
    {
        var key = await db.ApiKeys.AsNoTracking().FirstOrDefaultAsync(stored => stored.Id == id, cancellationToken);
        return key is not null && key.IsValidAt(time.GetUtcNow());
    }

    public static byte[] Hash(string key) => SHA256.HashData(Encoding.UTF8.GetBytes(key));

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static int Base64UrlLength(int bytes) => (bytes * 4 + 2) / 3;
}
