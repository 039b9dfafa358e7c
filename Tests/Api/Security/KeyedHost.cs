using Experiments.Domain.Access;
using Experiments.Tests.Api.Access;
using Experiments.Tests.Support;

namespace Experiments.Tests.Api.Security;

/// <summary>
/// A host that trains nothing, on a data folder that already holds an admin key: as access control requires, it then
/// answers callers from any address (with the key), starts behind a proxy and listens on any interface. The key is
/// created by a first host on the same folder, before this one starts.
/// </summary>
public class KeyedHost : IAsyncLifetime
{
    public ApiFactory Factory { get; private set; } = null!;

    public string AdminKey { get; private set; } = "";

    /// <summary>This host's settings over the test defaults.</summary>
    protected virtual IReadOnlyDictionary<string, string> Settings { get; } = new Dictionary<string, string>();

    /// <summary>Anything else to set before the host starts (a Kestrel binding, say).</summary>
    protected virtual void Configure(ApiFactory factory)
    {
    }

    public async Task InitializeAsync()
    {
        Factory = new ApiFactory { Trains = false };
        foreach (var (key, value) in Settings)
        {
            Factory.Settings[key] = value;
        }
        using (var seed = new ApiFactory { Trains = false, Settings = { ["Experiments:DataFolder"] = Factory.DataFolder } })
        {
            AdminKey = await Keys.CreateAsync(seed, "admin", Role.Admin);
        }
        Configure(Factory);
        Factory.StartServer();
    }

    public async Task DisposeAsync() => await Factory.DisposeAsync();
}
