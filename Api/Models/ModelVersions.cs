using System.Text.Json;
using Experiments.Api.Access;
using Experiments.Api.Persistence;
using Experiments.Domain.Access;
using Experiments.Domain.Models;
using Microsoft.EntityFrameworkCore;

namespace Experiments.Api.Models;

/// <summary>Saving a layer stack under a name: the same stack as the latest version is that version, a different one the next.</summary>
public static class ModelVersions
{
    /// <summary>
    /// The version of <paramref name="name"/> holding <paramref name="layers"/> (resolved), and whether this call created it;
    /// null when concurrent saves under the name took the next version <see cref="ModelsApi.MaxVersionAttempts"/> times in a row.
    /// </summary>
    public static async Task<(ModelDefinition Model, bool Created)?> SaveAsync(
        ExperimentsDbContext db, string name, IReadOnlyList<LayerSpec> layers, Caller caller, DateTimeOffset now, CancellationToken cancellationToken)
    {
        // The next version is the latest + 1; a concurrent save under the same name may take it first, which the
        // unique (Name, Version) index refuses: read the latest again and take the one after it.
        for (var attempt = 1; attempt <= ModelsApi.MaxVersionAttempts; attempt++)
        {
            var latest = await db.Models.AsNoTracking()
                .Where(model => model.Name == name)
                .OrderByDescending(model => model.Version)
                .FirstOrDefaultAsync(cancellationToken);
            if (latest is not null && SameLayers(latest.Layers, layers))
            {
                return (latest, false);
            }
            var created = new ModelDefinition(Guid.NewGuid(), name, (latest?.Version ?? 0) + 1, layers, now);
            created.AttributeTo(caller.Name);
            db.Models.Add(created);
            db.Audit(caller, AuditActions.ModelCreate, $"models/{created.Id}", $"{created.Name} v{created.Version}", created.CreatedAt);
            try
            {
                await db.SaveChangesAsync(cancellationToken);
                db.Entry(created).State = EntityState.Detached;
                return (created, true);
            }
            catch (DbUpdateException exception) when (ExperimentsDbContext.IsUniqueViolation(exception))
            {
                db.ChangeTracker.Clear();
            }
        }
        return null;
    }

    private static bool SameLayers(IReadOnlyList<LayerSpec> left, IReadOnlyList<LayerSpec> right) =>
        JsonSerializer.Serialize(left) == JsonSerializer.Serialize(right);
}
