namespace Experiments.Api.Access;

/// <summary>Access control settings (<c>Experiments:Auth</c>).</summary>
public sealed class AuthOptions
{
    public const string Section = "Experiments:Auth";

    /// <summary>
    /// Keys even on loopback before the first key exists: every request is refused until an admin creates one with the
    /// <c>keys create</c> command. Once any key exists, keys are required wherever the service listens, whatever this says.
    /// </summary>
    public bool Required { get; set; }

    /// <summary>Failed key checks one client address may make per minute before it is answered 429.</summary>
    public int FailedAttemptsPerMinute { get; set; } = 20;

    /// <summary>Creates, cancels and deletes one key may send per minute before it is answered 429.</summary>
    public int MutationsPerMinute { get; set; } = 300;

    /// <summary>How long a dashboard sign-in lasts without use (sliding); the key's own expiry ends it sooner.</summary>
    public TimeSpan SessionLifetime { get; set; } = TimeSpan.FromHours(12);
}
