namespace Experiments.Training.Data.Import;

/// <summary>Why an upload is refused; the HTTP host answers 400, 413 and 415 for them.</summary>
public enum ImportErrorKind
{
    /// <summary>The data or an option is wrong: what to fix is in the message.</summary>
    BadData,

    /// <summary>The upload, or what it decompresses to, is over the size limit.</summary>
    TooLarge,

    /// <summary>The content is not a format Experiments reads.</summary>
    UnsupportedFormat,
}

/// <summary>A refused upload: which request field is at fault, what to fix, and the kind of refusal.</summary>
public sealed class DatasetImportException(string field, string message, ImportErrorKind kind = ImportErrorKind.BadData) : Exception(message)
{
    public string Field { get; } = field;

    public ImportErrorKind Kind { get; } = kind;

    public static DatasetImportException TooLarge(string field, string what, long limit) => new(field,
        $"{what} is larger than the limit of {Format(limit)} ({limit} bytes, set by Experiments:MaxUploadBytes).",
        ImportErrorKind.TooLarge);

    public static string Format(long bytes) => bytes switch
    {
        >= 1L << 30 => $"{bytes / (double)(1L << 30):0.#} GiB",
        >= 1L << 20 => $"{bytes / (double)(1L << 20):0.#} MiB",
        >= 1L << 10 => $"{bytes / (double)(1L << 10):0.#} KiB",
        _ => $"{bytes} bytes",
    };
}
