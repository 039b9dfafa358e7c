using Experiments.Domain.Runs;
using TorchSharp;

namespace Experiments.Training.Runtime;

/// <summary>What the native side of TorchSharp reports about this machine.</summary>
public sealed record TorchEnvironment(bool Loaded, string? Error, string TorchSharpVersion, string? LibTorchVersion, bool CudaAvailable, int CudaDevices);

/// <summary>Loads libtorch once and answers device questions. Safe to call from any thread.</summary>
public static class TorchRuntime
{
    private static readonly Lazy<TorchEnvironment> Environment = new(Probe, LazyThreadSafetyMode.ExecutionAndPublication);

    public static TorchEnvironment Describe() => Environment.Value;

    /// <summary>The device a run asked for: <c>auto</c> is CUDA when a GPU is visible, else the CPU.</summary>
    public static torch.Device Resolve(TrainingDevice requested)
    {
        var environment = Describe();
        if (!environment.Loaded)
        {
            throw new InvalidOperationException($"TorchSharp's native library did not load: {environment.Error}");
        }
        return requested switch
        {
            TrainingDevice.Cpu => torch.CPU,
            TrainingDevice.Cuda when environment.CudaAvailable => torch.CUDA,
            TrainingDevice.Cuda => throw new InvalidOperationException("device 'cuda' was requested but no CUDA GPU is available to this process."),
            _ => environment.CudaAvailable ? torch.CUDA : torch.CPU,
        };
    }

    private static TorchEnvironment Probe()
    {
        var torchSharpVersion = typeof(torch).Assembly.GetName().Version?.ToString(3) ?? "unknown";
        try
        {
            using var probe = torch.zeros(1);
            var cuda = torch.cuda.is_available();
            return new TorchEnvironment(true, null, torchSharpVersion, torch.__version__, cuda, cuda ? torch.cuda.device_count() : 0);
        }
        catch (Exception exception) when (exception is TypeInitializationException or DllNotFoundException or NotSupportedException)
        {
            var reason = exception.InnerException?.Message ?? exception.Message;
            var firstLine = reason.Split('\n', 2)[0].Trim();
            return new TorchEnvironment(false, firstLine, torchSharpVersion, null, false, 0);
        }
    }
}
