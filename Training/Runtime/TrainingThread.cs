using TorchSharp;

namespace Experiments.Training.Runtime;

/// <summary>
/// Each run trains on a thread of its own, from its first tensor to its last. libtorch keeps its intra-op thread count per
/// calling thread (OpenMP's ICV) and builds one OpenMP team per thread that starts parallel work, so a loop whose
/// continuations hopped between pool threads would meet a thread count it never set and leave teams spinning behind it.
/// On a thread of its own the count set here is the one every batch uses, and the thread shows by name in per-thread
/// accounting (top -H, /proc/PID/task).
/// </summary>
public static class TrainingThread
{
    public const string Name = "training";

    /// <summary>Runs <paramref name="work"/> on a new thread with <paramref name="torchThreads"/> intra-op threads (null: libtorch's default).</summary>
    public static Task<T> Run<T>(int? torchThreads, Func<T> work)
    {
        var completion = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        var thread = new Thread(() =>
        {
            try
            {
                if (torchThreads is { } threads)
                {
                    torch.set_num_threads(threads);
                }
                completion.SetResult(work());
            }
            catch (Exception exception)
            {
                completion.SetException(exception);
            }
        })
        {
            IsBackground = true,
            Name = Name,
        };
        thread.Start();
        return completion.Task;
    }

    /// <summary>
    /// The intra-op threads a run gets when neither the run nor the worker names a number: the cores this process may use
    /// (<see cref="Environment.ProcessorCount"/>, which honours CPU affinity and a container's CPU limit) less one for the
    /// host — HTTP, SignalR, the database, the garbage collector — shared among the runs the worker trains at once.
    /// </summary>
    public static int DefaultThreads(int cores, int concurrentRuns) =>
        Math.Max(1, (cores - 1) / Math.Max(1, concurrentRuns));
}
