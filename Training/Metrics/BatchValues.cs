using static TorchSharp.torch;

namespace Experiments.Training.Metrics;

/// <summary>
/// Scalars recorded during an epoch (each batch's loss, the sampled gradient norms), with the batch each belongs to. On the
/// CPU each is read as it is recorded: reading a scalar there is a memory read, cheaper than the kernel that would store it.
/// On a GPU they stay on the device and are read a few at a time (<see cref="Read"/>): a read waits for the device.
/// </summary>
internal sealed class BatchValues : IDisposable
{
    private readonly float[] _values;
    private readonly int[] _batches;
    private readonly Tensor? _onDevice;
    private int _count;
    // Values [0, _copied) are on the host; values [0, _read) were answered by Read.
    private int _copied;
    private int _read;

    public BatchValues(int capacity, Device device)
    {
        _values = new float[capacity];
        _batches = new int[capacity];
        _onDevice = device.type == TorchSharp.DeviceType.CPU ? null : empty(capacity, ScalarType.Float32, device);
    }

    public int Count => _count;

    /// <summary>Whether a value recorded now is already readable on the host, without waiting for the device.</summary>
    public bool ReadAtOnce => _onDevice is null;

    /// <summary>Records <paramref name="scalar"/> (a one-element tensor) as the value of <paramref name="batch"/>.</summary>
    public void Add(int batch, Tensor scalar)
    {
        _batches[_count] = batch;
        if (_onDevice is null)
        {
            _values[_count] = scalar.item<float>();
            _copied = _count + 1;
        }
        else
        {
            _onDevice[_count] = scalar;
        }
        _count++;
    }

    /// <summary>Copies every value recorded so far to the host (one read of a GPU); answers the values not answered before.</summary>
    public (ReadOnlyMemory<float> Values, ReadOnlyMemory<int> Batches) Read()
    {
        CopyToHost();
        var from = _read;
        _read = _count;
        return (_values.AsMemory(from, _count - from), _batches.AsMemory(from, _count - from));
    }

    /// <summary>The mean of every value recorded, in double precision; NaN when none was.</summary>
    public double Mean()
    {
        CopyToHost();
        double sum = 0;
        foreach (var value in _values.AsSpan(0, _count))
        {
            sum += value;
        }
        return _count == 0 ? double.NaN : sum / _count;
    }

    /// <summary>The last value recorded (once <see cref="Read"/> has copied it to the host).</summary>
    public float Last => _values[_count - 1];

    public void Dispose() => _onDevice?.Dispose();

    private void CopyToHost()
    {
        if (_count > _copied)
        {
            using var fresh = _onDevice!.narrow(0, _copied, _count - _copied).cpu();
            fresh.data<float>().CopyTo(_values.AsSpan(_copied, _count - _copied));
            _copied = _count;
        }
    }
}
