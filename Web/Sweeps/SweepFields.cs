using Experiments.Domain.Sweeps;
using Experiments.Domain.Validation;

namespace Experiments.Web.Sweeps;

public static class SweepFields
{
    /// <summary>
    /// The fields a sweep searches, parsed from its resolved spec as its controller parses them: parents before the fields
    /// inside them, a choice before its sub-space. A stored spec was checked when the sweep was created, so it parses.
    /// </summary>
    public static IReadOnlyList<SearchDimension> Of(SweepSpec spec) =>
        SearchSpace.Parse(spec.Parameters, spec.Method ?? SweepMethod.Grid, new ValidationErrors())?.Dimensions ?? [];
}
