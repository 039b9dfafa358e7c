namespace Experiments.Web.Runs;

/// <summary>
/// Which of a run's mistakes the run page shows: the query of <c>GET /api/runs/{id}/mistakes</c> for a kind, optionally
/// narrowed to one confusion-matrix cell.
/// </summary>
public sealed record MistakeQuery(string Kind, int? TrueClass = null, int? PredictedClass = null)
{
    public static MistakeQuery ConfidentWrong { get; } = new("confidentWrong");

    public static MistakeQuery Ambiguous { get; } = new("ambiguous");

    /// <summary>
    /// The samples of one cell: off the diagonal the mistakes of that pair, the most confident first; on it the correct
    /// samples the model was least sure of.
    /// </summary>
    public static MistakeQuery Cell(int trueClass, int predictedClass) =>
        new(trueClass == predictedClass ? "ambiguous" : "confidentWrong", trueClass, predictedClass);

    public bool IsCell => TrueClass is not null && PredictedClass is not null;

    /// <summary>What the gallery is headed with: "versicolor → virginica", "most confident wrong", "most ambiguous".</summary>
    public string Describe(IReadOnlyList<string> classNames) => this switch
    {
        { TrueClass: { } t, PredictedClass: { } p } when t == p => $"{classNames[t]} predicted right, least sure first",
        { TrueClass: { } t, PredictedClass: { } p } => $"{classNames[t]} predicted as {classNames[p]}, most confident first",
        { Kind: "ambiguous" } => "most ambiguous: smallest margin between the two most probable classes",
        _ => "most confident wrong",
    };
}
