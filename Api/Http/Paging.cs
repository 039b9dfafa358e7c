namespace Experiments.Api;

public static class Paging
{
    public const int DefaultPageSize = 50;
    public const int MaxPageSize = 500;

    /// <summary>Page numbers start at 1; sizes are clamped to 1..500.</summary>
    public static (int Page, int PageSize) Normalize(int? page, int? pageSize) =>
        (Math.Max(1, page ?? 1), Math.Clamp(pageSize ?? DefaultPageSize, 1, MaxPageSize));

    /// <summary>
    /// The items of one page. A page past the last one is empty however large its number: the offset is computed in
    /// 64 bits, so page 67108865 of 64 items is not page 1 wrapped around.
    /// </summary>
    public static IQueryable<T> PageOf<T>(this IQueryable<T> query, int page, int pageSize) =>
        Offset(page, pageSize) is { } offset ? query.Skip(offset).Take(pageSize) : query.Take(0);

    /// <summary>How many items come before the page; null when that is past any list (more than <see cref="int.MaxValue"/>).</summary>
    public static int? Offset(int page, int pageSize)
    {
        var offset = (long)(page - 1) * pageSize;
        return offset > int.MaxValue ? null : (int)offset;
    }
}
