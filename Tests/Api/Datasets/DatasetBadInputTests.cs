using System.Net;
using System.Text;
using Experiments.Api.Persistence;
using Experiments.Tests.Support;
using static Experiments.Tests.Support.ProblemAssertions;
using Experiments.Tests.Training.Data;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Experiments.Tests.Api.Datasets;

/// <summary>
/// Every broken upload is refused with a problem-details answer naming the field and saying what is wrong,
/// and leaves nothing behind. The host here accepts uploads of at most 64 KiB, CSV lines of 1,000 characters and
/// 50 columns, and pickles of 100,000 values, so limits are cheap to reach.
/// </summary>
[Collection(OneAtATime.Name)]
public sealed class DatasetBadInputTests(DatasetBadInputTests.SmallUploadHost host) : IClassFixture<DatasetBadInputTests.SmallUploadHost>
{
    private const int Limit = 64 * 1024;
    private readonly ApiFactory _factory = host.Factory;
    private readonly WebApplicationFactory<Program> _host = host.Host;
    private readonly HttpClient _client = host.Host.CreateClient();

    /// <summary>The real host with Experiments:MaxUploadBytes at 64 KiB and small reader limits, started once for the class.</summary>
    public sealed class SmallUploadHost : IDisposable
    {
        public SmallUploadHost() => Host = Factory.WithWebHostBuilder(builder => builder
            .UseSetting("Experiments:MaxUploadBytes", Limit.ToString(System.Globalization.CultureInfo.InvariantCulture))
            .UseSetting("Experiments:MaxCsvLineLength", "1000")
            .UseSetting("Experiments:MaxCsvColumns", "50")
            .UseSetting("Experiments:MaxPickleElements", "100000"));

        public ApiFactory Factory { get; } = new();

        public WebApplicationFactory<Program> Host { get; }

        public void Dispose() => Factory.Dispose();
    }

    private static readonly long[] Labels4 = [0, 1, 0, 1];

    public static TheoryData<string, string, string> BadUploads() => new()
    {
        // CSV
        { "ragged", "file", "line 4 has 2 values but the header has 3" },
        { "non-numeric", "file", "line 3, column 'b': 'x' is not a number" },
        { "infinite", "file", "line 2, column 'a': inf is not a finite 32-bit number" },
        { "csv-long-label", "file", "line 3 is longer than 1000 characters, the limit set by Experiments:MaxCsvLineLength" },
        { "csv-many-columns", "file", "line 1 has 51 columns, more than the limit of 50 (set by Experiments:MaxCsvColumns)" },
        // NumPy
        { "npy-nan", "file", "'x.npy' sample 2, value [1] is NaN" },
        { "npy-lengths", "labelsFile", "'x.npy' has 4 samples but 'y.npy' has 3 labels" },
        { "npy-truncated-header", "file", "is truncated inside its .npy header" },
        { "npy-corrupt-header", "file", "has a corrupt .npy header" },
        { "npy-truncated-data", "file", "is truncated: shape (4, 2) of float32 needs 32 bytes of data, the file has 16" },
        { "npy-structured", "file", "is a structured array" },
        { "npy-zero-size", "file", "'x.npy' has shape (10, 0): its samples have no values" },
        { "npy-labels-missing", "labelsFile", "is required with a Npy file" },
        { "label-negative", "labelsFile", "y.npy[2] of 'y.npy' is -1, out of range" },
        { "label-too-large", "labelsFile", "y.npy[0] of 'y.npy' is 20000, out of range" },
        { "label-non-integer", "labelsFile", "y.npy[1] of 'y.npy' is 0.5, not a whole number" },
        { "label-nan", "labelsFile", "y.npy[3] of 'y.npy' is NaN; labels must be finite" },
        { "npz-names", "file", "the .npz file has none of the usual names" },
        { "npz-not-zip", "file", "the .npz file is not a readable zip archive" },
        // IDX
        { "idx-truncated-header", "file", "is truncated inside its IDX header" },
        { "idx-overflow", "file", "whose size overflows" },
        { "idx-truncated-data", "file", "is truncated: shape (4, 3, 3) of uint8 needs 36 bytes" },
        // Pickle
        { "pickle-os-system-2", "file", "the pickle refers to 'posix.system', which Experiments refuses to load" },
        { "pickle-os-system-4", "file", "the pickle refers to 'posix.system'" },
        { "pickle-eval", "file", "the pickle refers to 'builtins.eval'" },
        { "pickle-class", "file", "the pickle refers to 'mymodule.Custom'" },
        { "pickle-truncated", "file", "the file is truncated" },
        { "pickle-ragged", "file", "training_data[1] has 1 entries where the first entry at this depth has 2" },
        { "pickle-self-reference", "file", "training_data[0] is the list training_data itself" },
        { "pickle-deep", "file", "'training_data' is nested more than 32 levels deep" },
        // Requests
        { "path-separator", "file", "file name '../evil.csv' contains a path" },
        { "long-file-name", "file", "the file name is 304 characters; send one of at most 255" },
        { "empty", "file", "the file is empty" },
        { "unknown-field", "labelColum", "is not a field of a dataset upload" },
        { "bad-reshape", "reshape", "[3, 3] holds 9 values, but a sample of shape [2] has 2" },
        { "bad-scale", "scale", "must be a finite non-zero number" },
        { "bad-task", "task", "'clustering' is not a task" },
        { "classification-of-text-as-regression", "file", "regression needs numeric targets" },
    };

    [Theory]
    [MemberData(nameof(BadUploads))]
    public async Task A_broken_upload_is_refused_with_400_naming_the_field_and_the_fault(string upload, string field, string expected)
    {
        var problem = await ExpectProblemAsync(status: HttpStatusCode.BadRequest, response: await _client.PostAsync("/api/datasets", Upload(upload)));

        Assert.True(problem.Errors.ContainsKey(field), string.Join("; ", problem.Errors.Select(error => $"{error.Key}: {string.Join(" ", error.Value)}")));
        Assert.Contains(expected, Assert.Single(problem.Errors[field]), StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_upload_over_the_limit_is_refused_with_413_stating_the_limit()
    {
        var csv = "a,label\n" + string.Concat(Enumerable.Repeat("1,0\n", Limit / 4 + 10));

        var problem = await ExpectProblemAsync(status: HttpStatusCode.RequestEntityTooLarge, response: await _client.PostAsync("/api/datasets", DatasetFiles.Form("big.csv", Encoding.ASCII.GetBytes(csv))));

        Assert.Contains("larger than the limit of 64 KiB (65536 bytes, set by Experiments:MaxUploadBytes)", Assert.Single(problem.Errors["file"]), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_pickle_whose_shared_lists_expand_past_the_limit_is_refused_with_413_stating_it()
    {
        var problem = await ExpectProblemAsync(status: HttpStatusCode.RequestEntityTooLarge, response: await _client.PostAsync("/api/datasets", DatasetFiles.Form("shared.pkl", SharedListsPickle())));

        Assert.Contains("expands to 1000000 values (shape (1000, 1000)): more than the limit of 100000 values a pickle may hold (set by Experiments:MaxPickleElements)",
            Assert.Single(problem.Errors["file"]), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Regression_a_multipart_header_over_its_limit_is_refused_with_431_naming_that_limit_not_the_upload_limit()
    {
        var problem = await ExpectProblemAsync(status: HttpStatusCode.RequestHeaderFieldsTooLarge, response: await _client.PostAsync("/api/datasets", LongPartHeader()));

        var message = Assert.Single(problem.Errors["body"]);
        Assert.Contains("the headers of a part of the form are longer than the multipart header length limit of 16 KiB (16384 bytes", message, StringComparison.Ordinal);
        Assert.DoesNotContain("MaxUploadBytes", message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_form_of_more_fields_than_its_limit_is_refused_with_413_naming_that_limit()
    {
        // 1,025 parts are over 64 KiB: this one goes to the host with the default upload limit.
        var fields = Enumerable.Range(0, 1025).Select(i => ($"f{i}", "x")).ToArray();

        var problem = await ExpectProblemAsync(status: HttpStatusCode.RequestEntityTooLarge, response: await _factory.CreateClient().PostAsync("/api/datasets", DatasetFiles.Form("a.csv", Encoding.ASCII.GetBytes("a,label\n1,0\n"), fields)));

        Assert.Contains("the form has more than 1024 fields, the form value count limit (FormOptions.ValueCountLimit)", Assert.Single(problem.Errors["body"]), StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_npz_whose_entries_decompress_past_the_limit_is_refused_with_413()
    {
        var bomb = DatasetFiles.Npz(compressed: true, ("x", DatasetFiles.Npy(new float[Limit], Limit, 1)), ("y", DatasetFiles.Npy(new long[Limit], Limit)));
        Assert.True(bomb.Length < Limit / 4, $"the bomb is {bomb.Length} bytes");

        var problem = await ExpectProblemAsync(status: HttpStatusCode.RequestEntityTooLarge, response: await _client.PostAsync("/api/datasets", DatasetFiles.Form("bomb.npz", bomb)));

        Assert.Contains("array 'x' of the .npz file", Assert.Single(problem.Errors["file"]), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_gzip_that_decompresses_past_the_limit_is_refused_with_413()
    {
        var bomb = DatasetFiles.Gzip(DatasetFiles.Idx(0x08, [Limit * 2], new byte[Limit * 2]));

        var problem = await ExpectProblemAsync(status: HttpStatusCode.RequestEntityTooLarge, response: await _client.PostAsync("/api/datasets", DatasetFiles.Form("x.idx.gz", bomb)));

        Assert.Contains("decompressed is larger than the limit", Assert.Single(problem.Errors["file"]), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Binary_content_of_no_known_format_is_refused_with_415()
    {
        var problem = await ExpectProblemAsync(status: HttpStatusCode.UnsupportedMediaType, response: await _client.PostAsync("/api/datasets", DatasetFiles.Form("model.bin", [0x7f, 0x45, 0x4c, 0x46, 0, 1, 2, 3])));

        Assert.Contains("say which with the field format", Assert.Single(problem.Errors["file"]), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Refused_uploads_leave_no_file_in_the_data_folder_and_no_row()
    {
        await using var scope = _host.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<ExperimentsDbContext>();
        var folder = Path.Combine(_factory.DataFolder, "datasets");
        var rowsBefore = await db.Datasets.CountAsync();
        var filesBefore = Directory.GetFiles(folder);

        foreach (var upload in BadUploads().Select(row => (string)row[0]))
        {
            Assert.False((await _client.PostAsync("/api/datasets", Upload(upload))).IsSuccessStatusCode, upload);
        }
        var bomb = DatasetFiles.Npz(compressed: true, ("x", DatasetFiles.Npy(new float[Limit], Limit, 1)), ("y", DatasetFiles.Npy(new long[Limit], Limit)));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, (await _client.PostAsync("/api/datasets", DatasetFiles.Form("bomb.npz", bomb))).StatusCode);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, (await _client.PostAsync("/api/datasets", DatasetFiles.Form("shared.pkl", SharedListsPickle()))).StatusCode);
        Assert.Equal(HttpStatusCode.RequestHeaderFieldsTooLarge, (await _client.PostAsync("/api/datasets", LongPartHeader())).StatusCode);

        Assert.Equal(rowsBefore, await db.Datasets.CountAsync());
        Assert.Equal(filesBefore, Directory.GetFiles(folder));
    }

    /// <summary>row = [0] * 1000; {'training_data': [row] * 1000, …}: 10 KB that expand to a million values.</summary>
    private static byte[] SharedListsPickle() => PickleOpcodes.Dataset(data => data
        .List(1000).Put(0).Op(0x30)
        .EmptyList().Mark().Repeat(1000, rows => rows.Get(0)).Appends());

    /// <summary>A CSV upload whose file name makes its part's Content-Disposition header 17 KB long.</summary>
    private static MultipartFormDataContent LongPartHeader() => DatasetFiles.Form(new string('a', 17_000) + ".csv", Encoding.ASCII.GetBytes("a,label\n1,0\n"));

    private static MultipartFormDataContent Upload(string name)
    {
        static MultipartFormDataContent Csv(string text, params (string, string)[] fields) => DatasetFiles.Form("data.csv", Encoding.UTF8.GetBytes(text), fields);
        static MultipartFormDataContent Pair(byte[] x, byte[] y, params (string, string)[] fields) => DatasetFiles.Form([("file", "x.npy", x), ("labelsFile", "y.npy", y)], fields);
        static MultipartFormDataContent Fixture(string file) => DatasetFiles.Form(file, File.ReadAllBytes(DatasetFiles.FixturePath(file)));
        var x = DatasetFiles.Npy(new float[] { 1, 2, 3, 4, 5, 6, 7, 8 }, 4, 2);
        var y = DatasetFiles.Npy(Labels4, 4);
        byte[] Labels(params double[] values) => DatasetFiles.Npy("<f8", [values.Length], DatasetFiles.Encode("<f8", values));
        return name switch
        {
            "ragged" => Csv("a,b,label\n1,2,0\n3,4,1\n5,6\n"),
            "non-numeric" => Csv("a,b,label\n1,2,0\n1,x,1\n"),
            "infinite" => Csv("a,b,label\ninf,2,0\n1,3,1\n"),
            "csv-long-label" => Csv("a,label\n1,0\n2," + new string('x', 1001) + "\n"),
            "csv-many-columns" => Csv(string.Join(",", Enumerable.Range(0, 51).Select(i => $"c{i}")) + "\n" + string.Join(",", Enumerable.Repeat("1", 51)) + "\n"),
            "npy-nan" => Pair(DatasetFiles.Npy(new float[] { 1, 2, 3, 4, 5, float.NaN, 7, 8 }, 4, 2), y, ("testFraction", "0.5")),
            "npy-lengths" => Pair(x, DatasetFiles.Npy(new long[] { 0, 1, 0 }, 3)),
            "npy-truncated-header" => Pair(x[..30], y),
            "npy-corrupt-header" => Pair(DatasetFiles.NpyWithHeader("{'descr': <f4, 'shape': (4, 2)}", new byte[32]), y),
            "npy-truncated-data" => Pair(x[..^16], y),
            "npy-structured" => Pair(DatasetFiles.NpyWithHeader("{'descr': [('a', '<f4'), ('b', '<f4')], 'fortran_order': False, 'shape': (4,), }", new byte[32]), y),
            "npy-labels-missing" => DatasetFiles.Form("x.npy", x),
            "npy-zero-size" => Pair(DatasetFiles.Npy("<f4", [10, 0], []), DatasetFiles.Npy(new long[10], 10)),
            "label-negative" => Pair(x, DatasetFiles.Npy(new long[] { 0, 1, -1, 1 }, 4)),
            "label-too-large" => Pair(x, DatasetFiles.Npy(new long[] { 20000, 1, 0, 1 }, 4)),
            "label-non-integer" => Pair(x, Labels(0, 0.5, 1, 0), ("task", "classification")),
            "label-nan" => Pair(x, Labels(0, 1, 0, double.NaN)),
            "npz-names" => DatasetFiles.Form("a.npz", DatasetFiles.Npz(true, ("inputs_a", x), ("outputs_b", y))),
            "npz-not-zip" => DatasetFiles.Form("a.npz", Encoding.ASCII.GetBytes("a,b\n1,2\n"), ("format", "npz")),
            "idx-truncated-header" => DatasetFiles.Form([("file", "x.idx", DatasetFiles.Idx(0x08, [4, 3, 3], new byte[36])[..9]), ("labelsFile", "y.idx", DatasetFiles.Idx(0x08, [4], new byte[4]))]),
            "idx-overflow" => DatasetFiles.Form([("file", "x.idx", DatasetFiles.Idx(0x08, [-1, -1, -1, -1], new byte[8])), ("labelsFile", "y.idx", DatasetFiles.Idx(0x08, [4], new byte[4]))]),
            "idx-truncated-data" => DatasetFiles.Form([("file", "x.idx", DatasetFiles.Idx(0x08, [4, 3, 3], new byte[20])), ("labelsFile", "y.idx", DatasetFiles.Idx(0x08, [4], new byte[4]))]),
            "pickle-os-system-2" => Fixture("hostile-os-system-protocol2.pkl"),
            "pickle-os-system-4" => Fixture("hostile-os-system-protocol4.pkl"),
            "pickle-eval" => Fixture("hostile-eval-protocol5.pkl"),
            "pickle-class" => Fixture("hostile-class-protocol3.pkl"),
            "pickle-truncated" => DatasetFiles.Form("t.pkl", File.ReadAllBytes(DatasetFiles.FixturePath("numpy2-protocol4.pkl"))[..200]),
            // {'training_data': [[1.0, 2.0], [3.0]], 'training_labels': [0, 1]} at protocol 2
            "pickle-ragged" => DatasetFiles.Form("r.pkl", Convert.FromBase64String("gAJ9cQAoWA0AAAB0cmFpbmluZ19kYXRhcQFdcQIoXXEDKEc/8AAAAAAAAEdAAAAAAAAAAGVdcQRHQAgAAAAAAABhZVgPAAAAdHJhaW5pbmdfbGFiZWxzcQVdcQYoSwBLAWV1Lg==")),
            "pickle-self-reference" => DatasetFiles.Form("self.pkl", PickleOpcodes.Dataset(data => data.EmptyList().Put(0).Get(0).Append(), protocol: 2)),
            "pickle-deep" => DatasetFiles.Form("deep.pkl", PickleOpcodes.Dataset(data => data.Repeat(10_000, list => list.EmptyList()).Repeat(9_999, list => list.Append()))),
            "path-separator" => DatasetFiles.Form("../evil.csv", Encoding.UTF8.GetBytes("a,label\n1,0\n")),
            "long-file-name" => DatasetFiles.Form(new string('a', 300) + ".csv", Encoding.UTF8.GetBytes("a,label\n1,0\n")),
            "empty" => DatasetFiles.Form("empty.csv", []),
            "unknown-field" => Csv("a,label\n1,0\n2,1\n", ("labelColum", "label")),
            "bad-reshape" => Pair(x, y, ("reshape", "3,3")),
            "bad-scale" => Pair(x, y, ("scale", "1/0")),
            "bad-task" => Pair(x, y, ("task", "clustering")),
            "classification-of-text-as-regression" => Csv("a,label\n1,cat\n2,dog\n", ("task", "regression")),
            _ => throw new ArgumentException(name),
        };
    }
}
