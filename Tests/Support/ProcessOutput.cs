using System.Diagnostics;
using System.Text;

namespace Experiments.Tests.Support;

// Also compiled into bench/ (see Bench.csproj): keep it free of test-framework types.

/// <summary>
/// What child processes wrote to standard output and standard error, interleaved as it arrived, kept for the error
/// message when one of them fails.
/// </summary>
public sealed class ProcessOutput
{
    private readonly StringBuilder _text = new();

    /// <summary>Reads both streams of <paramref name="process"/>, started with both redirected, until it exits.</summary>
    public void ReadFrom(Process process)
    {
        process.OutputDataReceived += (_, line) => Append(line.Data);
        process.ErrorDataReceived += (_, line) => Append(line.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public override string ToString()
    {
        lock (_text)
        {
            return _text.ToString();
        }
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }
        lock (_text)
        {
            _text.AppendLine(line);
        }
    }
}
