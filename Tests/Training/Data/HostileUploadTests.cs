using System.Text;
using Experiments.Tests.Support;
using Experiments.Training.Data.Import;

namespace Experiments.Tests.Training.Data;

/// <summary>
/// Uploads built to crash or exhaust the process (a pickled list that contains itself, a million levels of
/// nesting, one list referred to a million times, a single 4 MiB CSV line, samples of no values): each is refused
/// with the fault or the limit it meets, before it costs the stack or the memory, and leaves no file behind.
/// </summary>
public sealed class HostileUploadTests : IDisposable
{
    private readonly TemporaryFolder _folder = new();

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    public void Regression_a_pickled_list_that_contains_itself_is_refused_naming_the_key(int protocol)
    {
        // L = []; L.append(L)
        var pickle = PickleOpcodes.Dataset(data => data.EmptyList().Put(0).Get(0).Append(), protocol: protocol);

        var refused = Refuse(Pickle(pickle));

        Assert.Equal(ImportErrorKind.BadData, refused.Kind);
        Assert.Contains("training_data[0] is the list training_data itself", refused.Message, StringComparison.Ordinal);
    }

    [Theory]
    // python3 -c "import pickle; L=[]; L.append(L); pickle.dumps({'training_data': L, 'training_labels': [0]}, protocol=p)" for p = 2 and 5
    [InlineData("gAJ9cQAoWA0AAAB0cmFpbmluZ19kYXRhcQFdcQJoAmFYDwAAAHRyYWluaW5nX2xhYmVsc3EDXXEESwBhdS4=")]
    [InlineData("gAWVMQAAAAAAAAB9lCiMDXRyYWluaW5nX2RhdGGUXZRoAmGMD3RyYWluaW5nX2xhYmVsc5RdlEsAYXUu")]
    public void Python_s_own_pickle_of_a_list_that_contains_itself_is_refused(string base64)
    {
        var refused = Refuse(Pickle(Convert.FromBase64String(base64)));

        Assert.Contains("training_data[0] is the list training_data itself", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Lists_that_contain_each_other_are_refused_where_the_cycle_closes()
    {
        // A = [B], B = [A]
        var pickle = PickleOpcodes.Dataset(data => data.EmptyList().Put(0).EmptyList().Get(0).Append().Append());

        var refused = Refuse(Pickle(pickle));

        Assert.Contains("training_data[0][0] is the list training_data itself", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_list_that_contains_itself_past_its_first_entry_is_refused()
    {
        // L = [[0, 0]]; L.append(L): the shape read from the first entries, (2, 2), fits L[1] too.
        var pickle = PickleOpcodes.Dataset(data => data.EmptyList().Put(0).List(2).Append().Get(0).Append(), labels => labels.List(2));

        var refused = Refuse(Pickle(pickle));

        Assert.Contains("training_data[1] is the list training_data itself", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Regression_a_million_nested_lists_are_refused_at_32_levels_without_recursing()
    {
        // 2 MB: a million EMPTY_LIST, then APPENDs that put each inside the one before.
        var pickle = PickleOpcodes.Dataset(data => data.Repeat(1_000_000, list => list.EmptyList()).Repeat(999_999, list => list.Append()));

        var refused = Refuse(Pickle(pickle));

        Assert.Contains($"'training_data' is nested more than {ImportLimits.MaxDimensions} levels deep", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Regression_one_list_referred_to_a_million_times_is_refused_before_its_values_are_allocated()
    {
        // 15 KB: row = [0] * 1000; block = [row] * 1000; data = [block] * 1000, by memo references.
        var pickle = PickleOpcodes.Dataset(data => data
            .List(1000).Put(0).Op(0x30)
            .EmptyList().Mark().Repeat(1000, block => block.Get(0)).Appends().Put(1).Op(0x30)
            .EmptyList().Mark().Repeat(1000, rows => rows.Get(1)).Appends());
        Assert.True(pickle.Length < 16_000, $"{pickle.Length} bytes");

        var refused = Refuse(Pickle(pickle));

        Assert.Equal(ImportErrorKind.TooLarge, refused.Kind);
        Assert.Contains("'training_data' expands to 1000000000 values (shape (1000, 1000, 1000)): more than the limit of 50000000 values a pickle may hold "
            + "(set by Experiments:MaxPickleElements)", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Keys_together_may_not_expand_past_the_limit()
    {
        // row = [0] * 300; {'training_data': [row, row], 'training_labels': [0, 0]}: 308 entries, 602 values.
        var pickle = PickleOpcodes.Dataset(data => data.EmptyList().List(300).Put(0).Append().Get(0).Append(), labels => labels.List(2));

        var refused = Refuse(Pickle(pickle), ImportLimits.Default with { MaxPickleElements = 601 });

        Assert.Contains("'training_labels' expands to 2 values (shape (2,)), besides the 600 of the keys read before it", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Copies_made_by_allowed_calls_count_toward_the_element_limit()
    {
        // row = [0] * 1000; data = [list(row) for _ in range(20)]: 20 copies, made by builtins.list.
        var pickle = PickleOpcodes.Dataset(data => data
            .List(1000).Put(0).Op(0x30)
            .EmptyList().Mark().Repeat(20, copy => copy.Global("builtins", "list").Get(0).Op(0x85, 0x52)).Appends());

        var refused = Refuse(Pickle(pickle), ImportLimits.Default with { MaxPickleElements = 10_000 });

        Assert.Equal(ImportErrorKind.TooLarge, refused.Kind);
        Assert.Contains("hold more than 10000 entries, the limit set by Experiments:MaxPickleElements", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Bytes_built_by_allowed_calls_count_toward_the_upload_limit()
    {
        // text = 'x' * 1000; data = [_codecs.encode(text, 'latin1') for _ in range(20)]
        var pickle = PickleOpcodes.Dataset(data => data
            .Text(new string('x', 1000)).Put(0).Op(0x30)
            .EmptyList().Mark().Repeat(20, copy => copy.Global("_codecs", "encode").Get(0).Text("latin1").Op(0x86, 0x52)).Appends());

        var refused = Refuse(Pickle(pickle), new ImportLimits(10_000));

        Assert.Equal(ImportErrorKind.TooLarge, refused.Kind);
        Assert.Contains("the pickle's calls would build more than 9.8 KiB (10000 bytes, the limit set by Experiments:MaxUploadBytes)", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Regression_a_single_csv_line_longer_than_the_limit_is_refused_before_it_is_read_further()
    {
        var line = string.Concat(Enumerable.Repeat("1,", ImportLimits.DefaultMaxCsvLineLength / 2 + 1));

        var refused = Refuse(Csv(line));

        Assert.Contains($"line 1 is longer than {ImportLimits.DefaultMaxCsvLineLength} characters, the limit set by Experiments:MaxCsvLineLength", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Regression_a_label_cell_longer_than_the_line_limit_is_refused_with_its_line()
    {
        var refused = Refuse(Csv("a,label\n1,0\r\n2," + new string('x', 200) + "\n"), ImportLimits.Default with { MaxCsvLineLength = 100 });

        Assert.Contains("line 3 is longer than 100 characters", refused.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("a,b,c,d,e,f,g,h,i,j,label\n1,2,3,4,5,6,7,8,9,10,0\n")]
    [InlineData("\"a\",b,c,d,e,f,g,h,i,j,label\n1,2,3,4,5,6,7,8,9,10,0\n")]
    public void A_csv_with_more_columns_than_the_limit_is_refused_before_it_is_cut_into_cells(string csv)
    {
        var refused = Refuse(Csv(csv), ImportLimits.Default with { MaxCsvColumns = 10 });

        Assert.Contains("line 1 has 11 columns, more than the limit of 10 (set by Experiments:MaxCsvColumns)", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Csv_lines_end_at_lf_crlf_or_cr_and_a_line_at_the_limit_is_read()
    {
        var request = Csv("a,label\r\n1,0\r\n2,1\r3,0\n\n4,1\r\n5,0\r6,1\n7,0\n8,1\r\n9,0\n10,1");

        var dataset = DatasetConverter.Convert(Guid.NewGuid(), request, "hash", _folder.Path, ImportLimits.Default with { MaxCsvLineLength = 7 }, TimeProvider.System);

        Assert.Equal(10, dataset.TrainCount + dataset.TestCount);
    }

    [Theory]
    [InlineData(new long[] { 10, 0 }, "(10, 0)")]
    [InlineData(new long[] { 10, 3, 0 }, "(10, 3, 0)")]
    public void Regression_an_npy_whose_samples_have_no_values_is_refused(long[] shape, string shown)
    {
        var request = DatasetFiles.Request(("file", "x.npy", DatasetFiles.Npy("<f4", shape, [])), ("labelsFile", "y.npy", DatasetFiles.Npy(new long[10], 10)));

        var refused = Refuse(request);

        Assert.Equal("file", refused.Field);
        Assert.Contains($"'x.npy' has shape {shown}: its samples have no values", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_pickled_list_of_empty_lists_is_refused_as_samples_without_values()
    {
        var pickle = PickleOpcodes.Dataset(data => data.EmptyList().Mark().EmptyList().EmptyList().Appends(), labels => labels.List(2));

        var refused = Refuse(Pickle(pickle));

        Assert.Contains("'training_data' has shape (2, 0): its samples have no values", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_npy_of_more_than_32_dimensions_is_refused()
    {
        var request = DatasetFiles.Request(("file", "x.npy", DatasetFiles.Npy("<f4", Enumerable.Repeat(1L, 33).ToArray(), new byte[4])), ("labelsFile", "y.npy", DatasetFiles.Npy(new long[1], 1)));

        var refused = Refuse(request);

        Assert.Contains("'x.npy' has 33 dimensions; at most 32 are read", refused.Message, StringComparison.Ordinal);
    }

    private static DatasetImportRequest Pickle(byte[] pickle) => DatasetFiles.Request(("file", "data.pkl", pickle));

    private static DatasetImportRequest Csv(string text) => DatasetFiles.Request(("file", "data.csv", Encoding.UTF8.GetBytes(text)));

    /// <summary>The converter refuses <paramref name="request"/>, and its folder is left as empty as it was.</summary>
    private DatasetImportException Refuse(DatasetImportRequest request, ImportLimits? limits = null)
    {
        var refused = Assert.Throws<DatasetImportException>(() =>
            DatasetConverter.Convert(Guid.NewGuid(), request, "hash", _folder.Path, limits ?? ImportLimits.Default, TimeProvider.System));
        Assert.Empty(Directory.GetFiles(_folder.Path));
        return refused;
    }

    public void Dispose() => _folder.Dispose();
}
