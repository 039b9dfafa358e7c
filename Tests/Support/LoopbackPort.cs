using System.Net;
using System.Net.Sockets;

namespace Experiments.Tests.Support;

// Also compiled into bench/ (see Bench.csproj): keep it free of test-framework types.

/// <summary>Ports on the loopback interface for the servers the tests and benchmarks start.</summary>
public static class LoopbackPort
{
    /// <summary>A port no one listens on now: the system picks it, and it is released for the caller's server to take.</summary>
    public static int Free()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
