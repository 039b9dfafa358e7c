namespace Experiments.Api.Datasets;

/// <summary>
/// A refused upload: which request field is at fault, what to fix, and the status to answer
/// (400 bad data, 413 too large, 415 a format Experiments does not read).
/// </summary>
public sealed class DatasetImportException(string field, string message, int status = StatusCodes.Status400BadRequest) : Exception(message)
{
    public string Field { get; } = field;

    public int Status { get; } = status;

    public static DatasetImportException TooLarge(string field, string what, long limit) => new(field,
        $"{what} is larger than the limit of {Format(limit)} ({limit} bytes, set by Experiments:MaxUploadBytes).",
        StatusCodes.Status413PayloadTooLarge);

    public static string Format(long bytes) => bytes switch
    {
        >= 1L << 30 => $"{bytes / (double)(1L << 30):0.#} GiB",
        >= 1L << 20 => $"{bytes / (double)(1L << 20):0.#} MiB",
        >= 1L << 10 => $"{bytes / (double)(1L << 10):0.#} KiB",
        _ => $"{bytes} bytes",
    };
}
