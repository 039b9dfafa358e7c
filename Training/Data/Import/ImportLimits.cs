namespace Experiments.Training.Data.Import;

/// <summary>
/// What one import may read and build, checked before allocating, like System.Text.Json's <c>MaxDepth</c> and
/// Kestrel's limits: an upload over one is refused with a message that states the limit and the setting.
/// The host fills them from its settings; the defaults are the host's defaults.
/// </summary>
/// <param name="MaxBytes">The most an import may decompress (.npz entries, gzipped files) and what a pickle's calls may build, in bytes (<c>Experiments:MaxUploadBytes</c>).</param>
public sealed record ImportLimits(long MaxBytes)
{
    /// <summary>The most dimensions an array may have, as NumPy's own limit (<c>NPY_MAXDIMS</c> is 32 in NumPy 1.x); nested pickle lists count one per level.</summary>
    public const int MaxDimensions = 32;

    public const long DefaultMaxBytes = 1L << 30;

    public const int DefaultMaxCsvLineLength = 4 << 20;

    public const int DefaultMaxCsvColumns = 100_000;

    public const long DefaultMaxPickleElements = 50_000_000;

    /// <summary>Every limit at its default.</summary>
    public static ImportLimits Default { get; } = new(DefaultMaxBytes);

    /// <summary>The longest CSV line, in characters (<c>Experiments:MaxCsvLineLength</c>); a line is never read into memory past it.</summary>
    public int MaxCsvLineLength { get; init; } = DefaultMaxCsvLineLength;

    /// <summary>The most columns a CSV line may have (<c>Experiments:MaxCsvColumns</c>), checked before a line is cut into cells.</summary>
    public int MaxCsvColumns { get; init; } = DefaultMaxCsvColumns;

    /// <summary>
    /// The most values a pickle may hold (<c>Experiments:MaxPickleElements</c>): the entries of every list, tuple, dict
    /// and set it builds, and the numbers its lists expand to, where a list referred to many times counts each time.
    /// MNIST's 60,000 × 784 pixels as nested lists are 47 million.
    /// </summary>
    public long MaxPickleElements { get; init; } = DefaultMaxPickleElements;
}
