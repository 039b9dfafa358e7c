namespace Experiments.Api.Access;

/// <summary>
/// One change, written in the same transaction as the change itself: who (a key's name; null on a service without
/// keys), what (<see cref="AuditActions"/>), to what (e.g. <c>runs/{id}</c>) and a short detail.
/// </summary>
public sealed class AuditEntry
{
    private AuditEntry()
    {
    }

    public AuditEntry(DateTimeOffset at, string? actor, string action, string target, string? detail)
    {
        At = at;
        Actor = actor;
        Action = action;
        Target = target;
        Detail = detail;
    }

    public long Id { get; private set; }

    public DateTimeOffset At { get; private set; }

    public string? Actor { get; private set; }

    public string Action { get; private set; } = "";

    public string Target { get; private set; } = "";

    public string? Detail { get; private set; }
}

/// <summary>The audited actions.</summary>
public static class AuditActions
{
    public const string DatasetCreate = "dataset.create";
    public const string DatasetDelete = "dataset.delete";
    public const string ModelCreate = "model.create";
    public const string RunCreate = "run.create";
    public const string RunCancel = "run.cancel";
    public const string RunDelete = "run.delete";
    public const string SweepCreate = "sweep.create";
    public const string SweepCancel = "sweep.cancel";
    public const string KeyCreate = "key.create";
    public const string KeyRevoke = "key.revoke";
}

/// <summary>An audit entry as <c>GET /api/audit</c> returns it.</summary>
public sealed record AuditEntryView(long Id, DateTimeOffset At, string? Actor, string Action, string Target, string? Detail)
{
    public static AuditEntryView From(AuditEntry entry) => new(entry.Id, entry.At, entry.Actor, entry.Action, entry.Target, entry.Detail);
}
