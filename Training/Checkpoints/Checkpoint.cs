using System.Text;
using System.Text.Json;
using TorchSharp;
using static TorchSharp.torch;

namespace Experiments.Training.Checkpoints;

/// <summary>
/// Where training stood after an epoch: what a resumed run continues from. <see cref="TestLosses"/> and
/// <see cref="TestAccuracies"/> hold every epoch's test metrics (null when not evaluated), and
/// <see cref="ValidationLosses"/> and <see cref="ValidationAccuracies"/> its validation metrics when the run holds a
/// validation split out, so that the learning-rate schedule can be replayed to the same point. <see cref="LastTestAccuracy"/>
/// and <see cref="BestTestAccuracy"/> are the last and the best selection accuracy: validation when the run holds a
/// validation split out, else test (the names are those of checkpoints written before validation existed).
/// </summary>
public sealed record CheckpointState(
    int Epoch,
    long Step,
    double? LastTestAccuracy,
    double? BestTestAccuracy,
    int EpochsWithoutImprovement,
    IReadOnlyList<double?> TestLosses,
    IReadOnlyList<double?> TestAccuracies)
{
    public static CheckpointState Start { get; } = new(0, 0, null, null, 0, [], []);

    public IReadOnlyList<double?> ValidationLosses { get; init; } = [];

    public IReadOnlyList<double?> ValidationAccuracies { get; init; } = [];

    /// <summary>The epoch whose weights are the run's best weights; null before one was evaluated.</summary>
    public int? BestEpoch { get; init; }

    /// <summary>For regression, the best epoch's selection loss (validation when held out, else test): lower is better.</summary>
    public double? BestLoss { get; init; }
}

/// <summary>
/// One file per run holding the model, the optimizer, the random number generators and
/// <see cref="CheckpointState"/> after the last finished epoch. Written to a temporary file and renamed
/// over the previous one, so a crash leaves either the old checkpoint or the new one, never a torn file.
/// <code>"EXPCK001" int32 stateLength state(JSON) then four int64-length-prefixed blobs:
/// shuffle generator state, global generator state, model (TorchSharp format), optimizer state</code>
/// </summary>
public static class Checkpoint
{
    internal static readonly byte[] Magic = Encoding.ASCII.GetBytes("EXPCK001");

    /// <summary>
    /// Writes a run's file through <c>{path}.partial</c>, which replaces <paramref name="path"/> only once complete. A file
    /// that could not be written whole (a full disk) is deleted at once: it must not keep the space in which the run's
    /// failure is about to be recorded.
    /// </summary>
    public static void WriteWhole(string path, Action<string> write)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var temporary = path + ".partial";
        try
        {
            write(temporary);
        }
        catch
        {
            File.Delete(temporary);
            throw;
        }
        File.Move(temporary, path, overwrite: true);
    }

    /// <summary>The state alone, without loading tensors; null when there is no checkpoint.</summary>
    public static CheckpointState? ReadState(string path)
    {
        if (!File.Exists(path))
        {
            return null;
        }
        using var reader = new BinaryReader(File.OpenRead(path));
        return ReadHeader(reader, path);
    }

    /// <summary>Loads model, optimizer and generators from the checkpoint and returns where training stood.</summary>
    public static CheckpointState Restore(string path, nn.Module model, optim.Optimizer optimizer, Generator shuffle)
    {
        using var reader = new BinaryReader(File.OpenRead(path));
        var state = ReadHeader(reader, path);
        using (var shuffleState = tensor(ReadBlob(reader), ScalarType.Byte))
        {
            shuffle.set_state(shuffleState);
        }
        using (var globalState = tensor(ReadBlob(reader), ScalarType.Byte))
        {
            set_rng_state(globalState);
        }
        using (var modelStream = new MemoryStream(ReadBlob(reader)))
        {
            model.load(modelStream);
        }
        using (var optimizerReader = new BinaryReader(new MemoryStream(ReadBlob(reader))))
        {
            ((TorchSharp.Modules.OptimizerHelper)optimizer).load_state_dict(optimizerReader);
        }
        return state;
    }

    /// <summary>Loads only the model's weights (for evaluation and export of a run that has no final weights).</summary>
    public static void LoadModel(string path, nn.Module model)
    {
        using var reader = new BinaryReader(File.OpenRead(path));
        ReadHeader(reader, path);
        ReadBlob(reader);
        ReadBlob(reader);
        using var modelStream = new MemoryStream(ReadBlob(reader));
        model.load(modelStream);
    }

    private static CheckpointState ReadHeader(BinaryReader reader, string path)
    {
        if (!reader.ReadBytes(Magic.Length).AsSpan().SequenceEqual(Magic))
        {
            throw new InvalidDataException($"{path} is not an Experiments checkpoint.");
        }
        var json = reader.ReadBytes(reader.ReadInt32());
        return JsonSerializer.Deserialize<CheckpointState>(json) ?? throw new InvalidDataException($"{path} has an empty checkpoint state.");
    }

    private static byte[] ReadBlob(BinaryReader reader)
    {
        var length = reader.ReadInt64();
        var blob = reader.ReadBytes(checked((int)length));
        if (blob.Length != length)
        {
            throw new InvalidDataException("The checkpoint ends early.");
        }
        return blob;
    }
}

/// <summary>
/// The training state of one moment, copied into memory: what <see cref="Checkpoint"/> writes, captured on the training thread
/// in a few memory copies so that the file (and its <c>fsync</c>) can be written on another thread while training goes on. One
/// snapshot is reused epoch after epoch: its buffers keep their capacity, so capturing allocates nothing once warm.
/// </summary>
public sealed class CheckpointSnapshot : IDisposable
{
    private readonly MemoryStream _model = new();
    private readonly MemoryStream _optimizer = new();
    private byte[] _shuffleState = [];
    private byte[] _globalState = [];
    private byte[] _state = [];

    public CheckpointState State { get; private set; } = CheckpointState.Start;

    /// <summary>Copies the model, the optimizer, both generators and <paramref name="state"/>; call it where training stopped for the epoch.</summary>
    public void Capture(CheckpointState state, nn.Module model, optim.Optimizer optimizer, Generator shuffle)
    {
        State = state;
        _state = JsonSerializer.SerializeToUtf8Bytes(state);
        using (var shuffleState = shuffle.get_state())
        {
            _shuffleState = shuffleState.bytes.ToArray();
        }
        using (var globalState = get_rng_state())
        {
            _globalState = globalState.bytes.ToArray();
        }
        _model.SetLength(0);
        using (var modelWriter = new BinaryWriter(_model, Encoding.UTF8, leaveOpen: true))
        {
            model.save(modelWriter);
        }
        _optimizer.SetLength(0);
        using var optimizerWriter = new BinaryWriter(_optimizer, Encoding.UTF8, leaveOpen: true);
        ((TorchSharp.Modules.OptimizerHelper)optimizer).save_state_dict(optimizerWriter);
    }

    /// <summary>Writes the checkpoint file (<see cref="Checkpoint"/>'s format) to <paramref name="temporary"/>, flushed to disk.</summary>
    public void Write(string temporary)
    {
        using var file = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16);
        using (var writer = new BinaryWriter(file, Encoding.UTF8, leaveOpen: true))
        {
            writer.Write(Checkpoint.Magic);
            writer.Write(_state.Length);
            writer.Write(_state);
            WriteBlob(writer, _shuffleState);
            WriteBlob(writer, _globalState);
            WriteBlob(writer, Contents(_model));
            WriteBlob(writer, Contents(_optimizer));
        }
        file.Flush(flushToDisk: true);
    }

    /// <summary>Writes the model alone, as <c>module.save</c> writes it (the format of the run's weight files), flushed to disk.</summary>
    public void WriteModel(string temporary)
    {
        using var file = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16);
        file.Write(Contents(_model));
        file.Flush(flushToDisk: true);
    }

    public void Dispose()
    {
        _model.Dispose();
        _optimizer.Dispose();
    }

    private static ReadOnlySpan<byte> Contents(MemoryStream buffer) => buffer.GetBuffer().AsSpan(0, (int)buffer.Length);

    private static void WriteBlob(BinaryWriter writer, ReadOnlySpan<byte> blob)
    {
        writer.Write((long)blob.Length);
        writer.Write(blob);
    }
}
