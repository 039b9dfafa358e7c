using Experiments.Domain.Schedulers;

namespace Experiments.Domain.Runs;

/// <summary>
/// Which epochs of a run end with an evaluation: every <c>evaluateEvery</c>-th, always the last, and every epoch when
/// reduceLROnPlateau watches a metric. The trainer follows it, and pre-flight counts it into a run's ETA.
/// </summary>
public static class EvaluationSchedule
{
    public static bool Evaluates(int epoch, int epochs, int evaluateEvery, SchedulerSpec? scheduler) =>
        epoch % evaluateEvery == 0 || epoch == epochs || scheduler?.Type == "reduceLROnPlateau";

    /// <summary>How many of the run's <paramref name="epochs"/> end with an evaluation.</summary>
    public static int Count(int epochs, int evaluateEvery, SchedulerSpec? scheduler) =>
        scheduler?.Type == "reduceLROnPlateau" ? epochs : epochs / evaluateEvery + (epochs % evaluateEvery == 0 ? 0 : 1);
}
